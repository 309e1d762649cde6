"""The console channel and the shared contract pieces."""

from __future__ import annotations

import io
import pickle

import pytest

from notifier.channels.base import DeliveryError
from notifier.channels.console.channel import ConsoleChannel
from notifier.channels.render import Presentation, duration
from notifier.text import clean
from tests.fakes import sample


def test_an_alert_prints_as_one_readable_block() -> None:
    out = io.StringIO()
    ConsoleChannel(out, Presentation(names={"openai": "OpenAI"})).send(sample.alert())
    text = out.getvalue()
    assert text.splitlines()[1] == "[MAJOR] OpenAI: Elevated errors on API"
    assert "  Upstream: Azure SCUS power" in text
    assert text.endswith("\n\n")


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        # colour codes
        ("\x1b[31mred\x1b[0m alert", "red alert"),
        # a terminal title change (OSC) ended by BEL
        ("x\x1b]0;owned\x07y", "xy"),
        # carriage return overwriting the line, backspaces, NUL
        ("safe\rEVIL\x08\x00", "safe\nEVIL"),
        # bidi overrides that reorder what you read
        ("abc\u202edcba", "abcdcba"),
    ],
)
def test_control_characters_and_escapes_are_removed(raw: str, shown: str) -> None:
    assert clean(raw) == shown
    out = io.StringIO()
    ConsoleChannel(out).send(sample.alert(title=raw))
    assert "\x1b" not in out.getvalue() and "\x07" not in out.getvalue()


@pytest.mark.parametrize(
    ("minutes", "text"), [(0, "0m"), (59, "59m"), (134, "2h 14m"), (1500, "1d 1h 0m")]
)
def test_durations_read_naturally(minutes: int, text: str) -> None:
    start = sample.T0
    assert duration(start, start + __import__("datetime").timedelta(minutes=minutes)) == text


def test_a_delivery_error_survives_pickling_for_celery() -> None:
    err = pickle.loads(
        pickle.dumps(DeliveryError("slack: HTTP 429", permanent=False, retry_after=3))
    )
    assert (err.message, err.permanent, err.retry_after) == ("slack: HTTP 429", False, 3)

"""Secrets never reach an error or a log line: redacted before any cut, in every
spelling (percent-encoded too), in tracebacks as well as messages."""

from __future__ import annotations

import io
import logging
from urllib.parse import quote

import pytest

from notifier.channels.base import DeliveryError
from notifier.channels.httpjson import classify, env_key
from notifier.logs import PlainFormatter, RedactSecrets

KEY = "e93facc04764012d7bfb002500d5d1a6"  # made here: shaped like a PagerDuty routing key


def _pieces(secret: str, n: int = 6) -> list[str]:
    return [secret[i : i + n] for i in range(len(secret) - n + 1)]


def test_a_key_echoed_late_in_a_vendor_error_is_redacted_before_the_cut() -> None:
    # The key starts at character 105: cutting to 120 first left 15 of its characters.
    body = '{"message": "' + "x" * 105 + f" invalid routing key {KEY} given" + '"}'
    error = classify("pagerduty", 400, body, {}, (KEY,))
    assert not any(p in error.message for p in _pieces(KEY))


def test_a_percent_encoded_secret_is_redacted_too() -> None:
    url = "https://hooks.example.com/services/T00/B00/s3cr3t+value/with space"
    body = f"bad url {quote(url, safe='')} and {quote(url)}"
    error = classify("webhook", 404, body, {}, (url,))
    assert "s3cr3t" not in error.message and "**********" in error.message


def _logged(secret: str, emit: object) -> str:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactSecrets([secret]))
    handler.setFormatter(PlainFormatter("%(levelname)s %(message)s"))
    log = logging.getLogger("test.redaction")
    log.addHandler(handler)
    log.propagate = False
    try:
        assert callable(emit)
        emit(log)
    finally:
        log.removeHandler(handler)
    return out.getvalue()


def test_a_traceback_that_carries_a_secret_is_scrubbed() -> None:
    def emit(log: logging.Logger) -> None:
        try:
            raise ValueError(f"could not reach https://x.example/?key={quote(KEY + '/=')}")
        except ValueError:
            log.exception("send failed with %s", KEY + "/=")

    text = _logged(KEY + "/=", emit)
    assert "Traceback" in text and "ValueError" in text
    assert KEY not in text and quote(KEY + "/=", safe="") not in text


def test_a_missing_key_variable_named_like_a_secret_is_not_echoed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(KEY, raising=False)
    with pytest.raises(DeliveryError) as caught:
        env_key("pagerduty", KEY)
    assert KEY not in caught.value.message
    assert "this looks like a secret, not a variable name" in caught.value.message
    with pytest.raises(DeliveryError, match="PD_ROUTING_KEY is not set"):
        env_key("pagerduty", "PD_ROUTING_KEY")

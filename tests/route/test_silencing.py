"""What a silence mutes, and the two things it never hides: a severity rise above what
it was made for (unless made for any impact), and the all-clear after a sent opening."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from notifier.models import Impact
from notifier.route.silencing import silence_for
from notifier.store.ops.silences import Silence, make
from tests.fakes import sample

NOW = sample.T0 + timedelta(minutes=5)


def _silence(**kw: Any) -> Silence:
    base: dict[str, Any] = {"lasting": timedelta(hours=2), "reason": "known", "by": "ana",
                            "now": sample.T0}  # fmt: skip
    return make("openai", **{**base, **kw})


def _never_asked() -> bool:
    raise AssertionError("only an ending asks whether the opening was sent")


def test_an_alert_matching_an_active_silence_is_muted_by_it() -> None:
    s = _silence(open_incidents=[sample.incident()])
    assert silence_for(sample.alert(), [s], NOW, _never_asked) is s


def test_a_silence_that_has_not_begun_or_has_ended_mutes_nothing() -> None:
    s = _silence()
    assert silence_for(sample.alert(impact=Impact.MINOR), [s], NOW + timedelta(hours=3),
                       _never_asked) is None  # fmt: skip


def test_a_severity_rise_above_the_silence_is_heard() -> None:
    made_for_minor = _silence(open_incidents=[sample.incident(impact=Impact.MINOR)])
    rise = sample.update(impact=Impact.MAJOR)
    assert silence_for(rise, [made_for_minor], NOW, _never_asked) is None
    same = sample.update(impact=Impact.MINOR)
    assert silence_for(same, [made_for_minor], NOW, _never_asked) is made_for_minor


def test_a_silence_for_any_impact_mutes_a_rise_too() -> None:
    s = _silence(any_impact=True)
    rise = sample.update(impact=Impact.CRITICAL)
    assert silence_for(rise, [s], NOW, _never_asked) is s


def test_the_all_clear_of_an_incident_whose_opening_was_sent_is_never_muted() -> None:
    s = _silence(any_impact=True)
    resolved = sample.resolved()
    assert silence_for(resolved, [s], NOW, lambda: True) is None
    assert silence_for(resolved, [s], NOW, lambda: False) is s


def test_subscriber_and_component_matchers_narrow_it() -> None:
    s = _silence(component="Dashboard", subscriber="sre")
    assert silence_for(sample.alert(), [s], NOW, _never_asked) is None
    s2 = _silence(component="chatgpt", subscriber="other", any_impact=True)
    assert silence_for(sample.alert(), [s2], NOW, _never_asked) is None

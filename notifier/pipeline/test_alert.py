"""`notifier test-alert`: one clearly marked test message through each configured route.

Synchronous, with the real channels `build_channels` makes from the settings (no
Celery, no queue, no retry): each (subscriber, channel, target) gets one try and the
vendor's answer is reported as it came: sent with its message id, or the classified
`DeliveryError` (permanent or transient, and its message). The console stands in
when no vendor has credentials, and then the result says "printed", not "sent".

SMS goes as a plain one-segment text to the route's numbers (a rotation: the member on
call now), not as a page: no ack code, no escalation, no rate cap. It is still a
real SMS, so each number gets one, however many subscribers list it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from notifier.channels.base import Channel, DeliveryError
from notifier.channels.build import stands_in
from notifier.channels.kinds import channel_kind
from notifier.config.schema import Config
from notifier.config.schema.subscribers import Subscriber
from notifier.models import (
    Alert,
    AlertKind,
    ChangeEvent,
    EventKind,
    Impact,
    Incident,
    IncidentKind,
    Status,
    Update,
)

MARK = "[notifier test]"
PROVIDER = "notifier"
SENT, PRINTED, FAILED, DUPLICATE = "sent", "printed", "failed", "already sent"


@dataclass(frozen=True, slots=True)
class TestResult:
    """One (subscriber, channel, target) and what became of its test message."""

    __test__ = False  # not a pytest test class

    subscriber: str
    channel: str
    target: str  # the target's id (a Slack channel, a masked number, an address)
    outcome: str  # SENT | PRINTED | FAILED | DUPLICATE
    detail: str = ""  # the message id; or why it failed or was printed
    permanent: bool | None = None  # for FAILED: the vendor's answer will not change

    @property
    def failed(self) -> bool:
        return self.outcome == FAILED

    def describe(self) -> str:
        if self.outcome == SENT:
            return f"sent, message id {self.detail}"
        if self.outcome == FAILED:
            kind = "permanent" if self.permanent else "transient"
            return f"FAILED ({kind}): {self.detail}"
        return f"{self.outcome}: {self.detail}" if self.detail else self.outcome


def test_alert(subscriber: str, channel: str, now: datetime) -> Alert:
    """The test message for one route: an informational 'incident' of the pseudo
    provider `notifier`, titled with `MARK`, that says no action is needed."""
    stamp = now.strftime("%Y-%m-%d %H:%M UTC")
    title = f"{MARK} notifier can reach {subscriber} on {channel}"
    body = f"A test sent by `notifier test-alert` at {stamp}. No action needed."
    incident_id = "test-" + hashlib.sha256(f"{subscriber}/{channel}/{now}".encode()).hexdigest()[:8]
    incident = Incident(
        provider=PROVIDER, id=incident_id, title=title, url=None, status=Status.INVESTIGATING,
        impact=Impact.NONE, kind=IncidentKind.INCIDENT, started_at=now, updated_at=now,
        resolved_at=None, updates=(Update(now, Status.INVESTIGATING, body, "test"),),
    )  # fmt: skip
    event = ChangeEvent(
        event_id=incident_id, kind=EventKind.NEW_INCIDENT, provider=PROVIDER,
        incident_id=incident_id, detected_at=now, incident=incident, update=incident.updates[0],
    )  # fmt: skip
    key = f"{incident_id}/{subscriber}/{channel}"
    return Alert(
        dedup_key=key, thread_key=key, kind=AlertKind.NEW, subscriber=subscriber,
        channel=channel, event=event,
    )  # fmt: skip


def select(
    config: Config, subscriber: str | None, channel: str | None
) -> list[tuple[Subscriber, str]]:
    """The (subscriber, route name) pairs to test. Raises `LookupError` with a message
    for a subscriber the file does not define, or one without the named channel."""
    subs = config.subscribers
    if subscriber is not None:
        subs = [s for s in subs if s.name == subscriber]
        if not subs:
            known = ", ".join(s.name for s in config.subscribers) or "none"
            raise LookupError(f"no subscriber named {subscriber!r} (the file has: {known})")
    pairs: list[tuple[Subscriber, str]] = [
        (s, c) for s in subs for c in s.channel_names() if channel in (None, c)
    ]
    if not pairs:
        if subscriber is not None:
            raise LookupError(f"subscriber {subscriber!r} has no {channel} route")
        raise LookupError(f"no subscriber has a {channel or 'channel'} route")
    return pairs


def send_test_alerts(
    config: Config,
    channels: Mapping[str, Channel],
    now: datetime,
    subscriber: str | None = None,
    channel: str | None = None,
) -> list[TestResult]:
    """Send the test message on every selected route; one result per target."""
    results: list[TestResult] = []
    done: set[tuple[str, str]] = set()  # (the sending channel, target id): once each
    for sub, route in select(config, subscriber, channel):
        results += _route(sub, route, channels.get(route), config, now, done)
    return results


def _route(
    sub: Subscriber, route: str, channel: Channel | None, config: Config, now: datetime,
    done: set[tuple[str, str]],
) -> Iterable[TestResult]:  # fmt: skip
    kind = channel_kind(route)
    label = kind.label if kind is not None and kind.label else route
    if channel is None:
        fallback = sub.fallback if sub.fallback and sub.fallback != route else None
        then = f"alerts go to the fallback, {fallback}" if fallback else "alerts are lost"
        why = f"no {label} credentials in the settings ({then})"
        yield TestResult(sub.name, route, "-", FAILED, why, permanent=True)
        return
    alert = test_alert(sub.name, route, now)
    if stands_in(channel, route):
        target = channel.targets(sub)[0]
        if (channel.name, sub.name) not in done:  # one block per subscriber, as in service
            done.add((channel.name, sub.name))
            channel.send_test(alert, target)
        yield TestResult(sub.name, route, target.id, PRINTED, f"no {label} credentials")
        return
    targets = channel.test_targets(sub, config.oncall, now)
    if not targets:
        yield TestResult(sub.name, route, "-", FAILED, "no destination", permanent=True)
    for target in targets:
        shown = _masked(target.id) if kind is not None and kind.sends_by_paging else target.id
        if (channel.name, target.id) in done:
            yield TestResult(sub.name, route, shown, DUPLICATE, "sent once above")
            continue
        done.add((channel.name, target.id))
        if not channel.can_send(target):
            why = f"cannot reach {target.id} with the configured {label} credentials"
            yield TestResult(sub.name, route, shown, FAILED, why, permanent=True)
            continue
        try:
            sent = channel.send_test(alert, target)
        except DeliveryError as exc:
            yield TestResult(sub.name, route, shown, FAILED, exc.message, exc.permanent)
            continue
        yield TestResult(sub.name, route, shown, SENT, sent.message_id)


def _masked(number: str) -> str:
    """A phone number as the pager logs it: only the last four digits."""
    return f"…{number[-4:]}" if len(number) > 4 else number


__all__ = ["MARK", "TestResult", "send_test_alerts", "test_alert"]

"""Feed health: when a provider's status page itself counts as unreachable.

Pure decisions. After `threshold` consecutive failed polls the page counts as
unreachable and ONE `feed_unreachable` event is made; the next successful poll
makes ONE `feed_recovered`. Both carry a synthetic incident `feed-health` and
ids keyed by the time the outage episode began, so re-deciding the same episode
(a retried task, a crash before commit) gives the same ids.
"""

from __future__ import annotations

import re
from datetime import datetime

from notifier.diff.engine import event_id
from notifier.feeds.common import update_key
from notifier.models import (
    ChangeEvent,
    EventKind,
    Impact,
    Incident,
    IncidentKind,
    Status,
    Update,
    iso,
)
from notifier.store.snapshot import FeedHealth

HEALTH_INCIDENT_ID = "feed-health"
DEFAULT_THRESHOLD = 3
_MAX_ERROR = 300


def record_success(
    health: FeedHealth, provider: str, now: datetime
) -> tuple[FeedHealth, list[ChangeEvent]]:
    """A poll worked: reset, and announce recovery if the page was unreachable."""
    if not health.unreachable:
        return FeedHealth(), []
    body = f"The status page answers again after {health.failures} failed polls."
    incident = _incident(provider, Status.RESOLVED, health.since or now, now, body)
    event = _event(EventKind.FEED_RECOVERED, incident, health.since or now, now)
    return FeedHealth(), [event]


def record_failure(
    health: FeedHealth,
    provider: str,
    error: str,
    now: datetime,
    threshold: int = DEFAULT_THRESHOLD,
) -> tuple[FeedHealth, list[ChangeEvent]]:
    """A poll failed: count it, and announce the outage once the threshold is reached."""
    since = health.since or now
    text = sanitize_error(error)
    after = FeedHealth(health.failures + 1, health.unreachable, since, text)
    if health.unreachable or after.failures < max(threshold, 1):
        return after, []
    incident = _incident(provider, Status.INVESTIGATING, since, now, text)
    event = _event(EventKind.FEED_UNREACHABLE, incident, since, now)
    return FeedHealth(after.failures, True, since, text), [event]


_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]*@")
_QUERY = re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s?#]*)[?#]\S*")
_SECRETISH = re.compile(
    r"(?i)\b(bearer|basic|(?:access[_-]?)?token|api[_-]?key|secret|password|passwd|authorization)"
    r"(\s*[=:]\s*(?:bearer\s+|basic\s+)?|\s+(?=[A-Za-z0-9._~+/=-]{16,}))\S+"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def sanitize_error(text: str) -> str:
    """One safe line: no URL credentials or query strings, no secret-looking values."""
    text = _USERINFO.sub(r"\1", text)
    text = _QUERY.sub(r"\1", text)
    text = _SECRETISH.sub(r"\1\2[redacted]", text)
    text = " ".join(_CONTROL.sub(" ", text).split())
    if len(text) > _MAX_ERROR:
        text = text[: _MAX_ERROR - 1] + "…"
    return text or "unknown error"


def _incident(provider: str, status: Status, since: datetime, now: datetime, body: str) -> Incident:
    return Incident(
        provider=provider,
        id=HEALTH_INCIDENT_ID,
        title=f"Status page unreachable: {provider}",
        url=None,
        status=status,
        impact=Impact.MINOR,
        kind=IncidentKind.INCIDENT,
        started_at=since,
        updated_at=now,
        resolved_at=now if status is Status.RESOLVED else None,
        updates=(Update(at=now, status=status, body=body, key=update_key(now, 1)),),
    )


def _event(kind: EventKind, incident: Incident, since: datetime, now: datetime) -> ChangeEvent:
    episode = f"episode:{iso(since)}"
    return ChangeEvent(
        event_id=event_id(incident.provider, incident.id, kind, episode),
        kind=kind,
        provider=incident.provider,
        incident_id=incident.id,
        detected_at=now,
        incident=incident,
        update=incident.updates[-1],
    )


__all__ = [
    "DEFAULT_THRESHOLD",
    "HEALTH_INCIDENT_ID",
    "FeedHealth",
    "record_failure",
    "record_success",
    "sanitize_error",
]

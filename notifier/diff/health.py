"""Feed health: when a provider's status feed itself counts as down.

Pure decisions. After `threshold` consecutive failed polls ONE `feed_unreachable`
event is made; the next successful poll makes ONE `feed_recovered`. Both carry a
synthetic incident `feed-health` and ids keyed by the time the outage episode
began, so re-deciding the same episode (a retried task, a crash before commit)
gives the same ids.

Either way the user is blind to that provider, so a feed that answers but cannot be
read (an HTML page, a parse error) makes the same event as one that cannot be
reached; its text says which, from the failure's cause (`notifier.feeds.errors`):
"Status page unreachable" or "Status feed unreadable" (after the provider's name, as
every title), and the cause
in plain words.
"""

from __future__ import annotations

import re
from datetime import datetime

from notifier.diff.events import event_id
from notifier.feeds.common import update_key
from notifier.feeds.errors import cause_words, is_unreadable
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
from notifier.store.feeds.snapshot import FeedHealth

HEALTH_INCIDENT_ID = "feed-health"
DEFAULT_THRESHOLD = 3
_MAX_ERROR = 300


def record_success(
    health: FeedHealth, provider: str, now: datetime
) -> tuple[FeedHealth, list[ChangeEvent]]:
    """A poll worked: reset, and announce recovery if the feed was announced down."""
    if not health.unreachable:
        return FeedHealth(), []
    verb = "reads" if is_unreadable(health.cause) else "answers"
    body = f"The status feed {verb} again after {health.failures} failed polls."
    title = _title(provider, health.cause)
    incident = _incident(provider, title, Status.RESOLVED, health.since or now, now, body)
    event = _event(EventKind.FEED_RECOVERED, incident, health.since or now, now)
    return FeedHealth(), [event]


def record_failure(
    health: FeedHealth,
    provider: str,
    error: str,
    now: datetime,
    threshold: int = DEFAULT_THRESHOLD,
    cause: str | None = None,
) -> tuple[FeedHealth, list[ChangeEvent]]:
    """A poll failed: count it, and announce the outage once the threshold is reached.

    `cause` is the failure's code from `notifier.feeds.errors` (None: not known)."""
    since = health.since or now
    text = sanitize_error(error)
    after = FeedHealth(health.failures + 1, health.unreachable, since, text, cause)
    if health.unreachable or after.failures < max(threshold, 1):
        return after, []
    words = cause_words(cause)
    detail = "" if text == words else f"; last error: {text}"
    body = (
        f"{words[:1].upper()}{words[1:]} ({after.failures} polls in a row{detail})."
        f" No alerts about {provider} can arrive until it recovers."
    )
    title = _title(provider, cause)
    incident = _incident(provider, title, Status.INVESTIGATING, since, now, body)
    event = _event(EventKind.FEED_UNREACHABLE, incident, since, now)
    return FeedHealth(after.failures, True, since, text, cause), [event]


def _title(provider: str, cause: str | None) -> str:
    """Every channel puts the provider's name before the title ("OpenAI: Status page
    unreachable"), so the title does not repeat it."""
    del provider
    return "Status feed unreadable" if is_unreadable(cause) else "Status page unreachable"


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


def _incident(
    provider: str, title: str, status: Status, since: datetime, now: datetime, body: str
) -> Incident:
    return Incident(
        provider=provider,
        id=HEALTH_INCIDENT_ID,
        title=title,
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

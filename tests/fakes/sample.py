"""Sample alerts for channel and delivery tests (made here)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from notifier.models import (
    Alert,
    AlertKind,
    Annotation,
    AnnotationKind,
    ChangeEvent,
    EventKind,
    Impact,
    Incident,
    IncidentKind,
    Status,
    Update,
)

T0 = datetime(2024, 4, 16, 1, 46, tzinfo=UTC)


def incident(**kw: Any) -> Incident:
    base = Incident(
        provider="openai",
        id="01HV8ZK3Q",
        title="Elevated errors on API",
        url="https://status.openai.com/incidents/01HV8ZK3Q",
        status=Status.INVESTIGATING,
        impact=Impact.MAJOR,
        kind=IncidentKind.INCIDENT,
        started_at=T0,
        updated_at=T0,
        resolved_at=None,
        components=("API", "ChatGPT"),
        updates=(Update(T0, Status.INVESTIGATING, "We are investigating elevated errors.", "k1"),),
    )
    return replace(base, **kw)


def alert(
    kind: AlertKind = AlertKind.NEW,
    channel: str = "slack",
    subscriber: str = "sre",
    key: str = "ev1",
    thread_key: str = "openai:01HV8ZK3Q/sre/slack",
    annotations: tuple[Annotation, ...] | None = None,
    event_kind: EventKind = EventKind.NEW_INCIDENT,
    detected_at: datetime = T0 + timedelta(minutes=4),
    **incident_kw: Any,
) -> Alert:
    inc = incident(**incident_kw)
    event = ChangeEvent(
        event_id=key, kind=event_kind, provider=inc.provider, incident_id=inc.id,
        detected_at=detected_at, incident=inc, update=inc.updates[-1] if inc.updates else None,
    )  # fmt: skip
    if annotations is None:
        annotations = (
            Annotation(
                AnnotationKind.UPSTREAM,
                "Upstream: Azure SCUS power",
                "openai depends on azure (catalog)",
                provider="azure",
            ),
        )
    return Alert(
        dedup_key=f"{key}/{subscriber}/{channel}", thread_key=thread_key, kind=kind,
        subscriber=subscriber, channel=channel, event=event, annotations=annotations,
        page=channel == "sms",
    )  # fmt: skip


def resolved(channel: str = "slack", key: str = "ev9", **kw: Any) -> Alert:
    end = T0 + timedelta(hours=2, minutes=14)
    updates = (
        Update(T0, Status.INVESTIGATING, "We are investigating elevated errors.", "k1"),
        Update(end, Status.RESOLVED, "This incident has been resolved.", "k2"),
    )
    return alert(
        AlertKind.RESOLVED, channel=channel, key=key, event_kind=EventKind.RESOLVED,
        status=Status.RESOLVED, resolved_at=end, updated_at=end, updates=updates,
        detected_at=end + timedelta(minutes=1), **kw,
    )  # fmt: skip


def update(channel: str = "slack", key: str = "ev2", **kw: Any) -> Alert:
    at = T0 + timedelta(minutes=30)
    updates = (
        Update(T0, Status.INVESTIGATING, "We are investigating elevated errors.", "k1"),
        Update(at, Status.IDENTIFIED, "The issue has been identified.", "k2"),
    )
    return alert(
        AlertKind.UPDATE, channel=channel, key=key, event_kind=EventKind.NEW_UPDATE,
        status=Status.IDENTIFIED, updates=updates, detected_at=at + timedelta(minutes=1), **kw,
    )  # fmt: skip

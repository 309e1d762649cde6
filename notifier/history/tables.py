"""The history's tables (SQLAlchemy Core). Every table has a natural key, so a row
written twice (a redelivered outbox batch, an import run again) is upserted, never
duplicated. Times are UTC; SQLite hands them back naive (see `db.utc`).

The migrations in `migrations/versions/` create exactly these; a test compares them.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()


def _at(name: str, nullable: bool = True) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


providers = Table(
    "providers",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("name", String(300), nullable=False),
)

incidents = Table(
    "incidents",
    metadata,
    Column("provider", String(200), primary_key=True),
    Column("incident_id", String(300), primary_key=True),
    Column("title", Text, nullable=False),
    Column("url", Text),
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("impact", String(20), nullable=False),  # the latest
    _at("started_at"),
    _at("resolved_at"),
    _at("updated_at"),
    Column("components", JSON, nullable=False),
    Column("regions", JSON, nullable=False),
    Column("source", String(20), nullable=False),  # live | import
    Index("ix_incidents_started_at", "started_at"),
)

# Impact over time: one row per impact the incident had, from when.
incident_impacts = Table(
    "incident_impacts",
    metadata,
    Column("provider", String(200), primary_key=True),
    Column("incident_id", String(300), primary_key=True),
    Column("at", DateTime(timezone=True), primary_key=True),
    Column("impact", String(20), nullable=False),
)

updates = Table(
    "updates",
    metadata,
    Column("provider", String(200), primary_key=True),
    Column("incident_id", String(300), primary_key=True),
    Column("key", String(300), primary_key=True),
    _at("at", nullable=False),
    Column("status", String(20), nullable=False),
    Column("body", Text, nullable=False),
)

change_events = Table(
    "change_events",
    metadata,
    Column("event_id", String(500), primary_key=True),
    Column("provider", String(200), nullable=False),
    Column("incident_id", String(300), nullable=False),
    Column("kind", String(40), nullable=False),
    _at("detected_at", nullable=False),
    Column("previous", Text),
    Column("current", Text),
    Column("late", Boolean, nullable=False),
    Column("note", Text),
    Index("ix_change_events_incident", "provider", "incident_id"),
)

alerts = Table(
    "alerts",
    metadata,
    Column("dedup_key", String(700), primary_key=True),
    Column("thread_key", String(700), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("subscriber", String(200), nullable=False),
    Column("channel", String(100), nullable=False),
    Column("page", Boolean, nullable=False),
    Column("event_id", String(500), nullable=False),
    Column("provider", String(200), nullable=False),
    Column("incident_id", String(300), nullable=False),
    _at("detected_at"),
    _at("claimed_at"),
    Column("attached_to", String(700)),
    Column("outcome", String(20)),
    Column("message_id", Text),
    Column("error", Text),
    _at("finished_at"),
    Index("ix_alerts_incident", "provider", "incident_id"),
)

# Every delivery attempt, with its outcome.
deliveries = Table(
    "deliveries",
    metadata,
    Column("dedup_key", String(700), primary_key=True),
    Column("attempt", Integer, primary_key=True, autoincrement=False),
    Column("channel", String(100)),
    Column("subscriber", String(200)),
    Column("fallback_of", String(700)),
    _at("started_at"),
    _at("ended_at"),
    Column("outcome", String(20)),  # delivered | printed | failed | skipped | silenced | error
    Column("message_id", Text),
    Column("error", Text),
    Column("error_class", String(20)),  # permanent | transient
)

pages = Table(
    "pages",
    metadata,
    Column("page_id", String(200), primary_key=True),
    Column("dedup_key", String(700), nullable=False),
    Column("thread_key", String(700), nullable=False),
    Column("subscriber", String(200), nullable=False),
    Column("order", JSON, nullable=False),  # who was in line, by name
    Column("escalates", Boolean, nullable=False),
    Column("level", Integer, nullable=False),
    _at("first_paged_at"),
    _at("last_paged_at"),
    _at("detected_at"),
    Column("acked_by", String(200)),
    _at("acked_at"),
    _at("resolved_at"),
)

page_escalations = Table(
    "page_escalations",
    metadata,
    Column("page_id", String(200), primary_key=True),
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("member", String(200)),
    _at("at", nullable=False),
)

silences = Table(
    "silences",
    metadata,
    Column("silence_id", String(100), primary_key=True),
    Column("provider", String(200), nullable=False),
    Column("component", String(300)),
    Column("subscriber", String(200)),
    Column("max_impact", String(20)),
    Column("created_by", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    _at("starts_at", nullable=False),
    _at("ends_at", nullable=False),
    Column("expired_by", String(200)),
)

# What each silence muted: one row per alert it kept from being sent.
silence_mutes = Table(
    "silence_mutes",
    metadata,
    Column("silence_id", String(100), primary_key=True),
    Column("dedup_key", String(700), primary_key=True),
    _at("at", nullable=False),
)

KEYS: dict[str, tuple[str, ...]] = {
    t.name: tuple(c.name for c in t.primary_key.columns) for t in metadata.sorted_tables
}

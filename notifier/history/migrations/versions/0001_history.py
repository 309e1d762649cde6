"""The history's first tables: providers, incidents (impact over time, updates), change
events, alerts, delivery attempts, pages (escalations), silences (what each muted).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _s(n: int) -> sa.String:
    return sa.String(n)


def upgrade() -> None:
    op.create_table(
        "providers",
        sa.Column("id", _s(200), primary_key=True),
        sa.Column("name", _s(300), nullable=False),
    )
    op.create_table(
        "incidents",
        sa.Column("provider", _s(200), primary_key=True),
        sa.Column("incident_id", _s(300), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("kind", _s(20), nullable=False),
        sa.Column("status", _s(20), nullable=False),
        sa.Column("impact", _s(20), nullable=False),
        sa.Column("started_at", TZ),
        sa.Column("resolved_at", TZ),
        sa.Column("updated_at", TZ),
        sa.Column("components", sa.JSON, nullable=False),
        sa.Column("regions", sa.JSON, nullable=False),
        sa.Column("source", _s(20), nullable=False),
    )
    op.create_index("ix_incidents_started_at", "incidents", ["started_at"])
    op.create_table(
        "incident_impacts",
        sa.Column("provider", _s(200), primary_key=True),
        sa.Column("incident_id", _s(300), primary_key=True),
        sa.Column("at", TZ, primary_key=True),
        sa.Column("impact", _s(20), nullable=False),
    )
    op.create_table(
        "updates",
        sa.Column("provider", _s(200), primary_key=True),
        sa.Column("incident_id", _s(300), primary_key=True),
        sa.Column("key", _s(300), primary_key=True),
        sa.Column("at", TZ, nullable=False),
        sa.Column("status", _s(20), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "change_events",
        sa.Column("event_id", _s(500), primary_key=True),
        sa.Column("provider", _s(200), nullable=False),
        sa.Column("incident_id", _s(300), nullable=False),
        sa.Column("kind", _s(40), nullable=False),
        sa.Column("detected_at", TZ, nullable=False),
        sa.Column("previous", sa.Text),
        sa.Column("current", sa.Text),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_change_events_incident", "change_events", ["provider", "incident_id"])
    op.create_table(
        "alerts",
        sa.Column("dedup_key", _s(700), primary_key=True),
        sa.Column("thread_key", _s(700), nullable=False),
        sa.Column("kind", _s(20), nullable=False),
        sa.Column("subscriber", _s(200), nullable=False),
        sa.Column("channel", _s(100), nullable=False),
        sa.Column("page", sa.Boolean, nullable=False),
        sa.Column("event_id", _s(500), nullable=False),
        sa.Column("provider", _s(200), nullable=False),
        sa.Column("incident_id", _s(300), nullable=False),
        sa.Column("detected_at", TZ),
        sa.Column("claimed_at", TZ),
        sa.Column("attached_to", _s(700)),
        sa.Column("outcome", _s(20)),
        sa.Column("message_id", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("finished_at", TZ),
    )
    op.create_index("ix_alerts_incident", "alerts", ["provider", "incident_id"])
    op.create_table(
        "deliveries",
        sa.Column("dedup_key", _s(700), primary_key=True),
        sa.Column("attempt", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("channel", _s(100)),
        sa.Column("subscriber", _s(200)),
        sa.Column("fallback_of", _s(700)),
        sa.Column("started_at", TZ),
        sa.Column("ended_at", TZ),
        sa.Column("outcome", _s(20)),
        sa.Column("message_id", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("error_class", _s(20)),
    )
    op.create_table(
        "pages",
        sa.Column("page_id", _s(200), primary_key=True),
        sa.Column("dedup_key", _s(700), nullable=False),
        sa.Column("thread_key", _s(700), nullable=False),
        sa.Column("subscriber", _s(200), nullable=False),
        sa.Column("order", sa.JSON, nullable=False),
        sa.Column("escalates", sa.Boolean, nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("first_paged_at", TZ),
        sa.Column("last_paged_at", TZ),
        sa.Column("detected_at", TZ),
        sa.Column("acked_by", _s(200)),
        sa.Column("acked_at", TZ),
        sa.Column("resolved_at", TZ),
    )
    op.create_table(
        "page_escalations",
        sa.Column("page_id", _s(200), primary_key=True),
        sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("member", _s(200)),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_table(
        "silences",
        sa.Column("silence_id", _s(100), primary_key=True),
        sa.Column("provider", _s(200), nullable=False),
        sa.Column("component", _s(300)),
        sa.Column("subscriber", _s(200)),
        sa.Column("max_impact", _s(20)),
        sa.Column("created_by", _s(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("ends_at", TZ, nullable=False),
        sa.Column("expired_by", _s(200)),
    )
    op.create_table(
        "silence_mutes",
        sa.Column("silence_id", _s(100), primary_key=True),
        sa.Column("dedup_key", _s(700), primary_key=True),
        sa.Column("at", TZ, nullable=False),
    )


def downgrade() -> None:
    for name in (
        "silence_mutes", "silences", "page_escalations", "pages", "deliveries", "alerts",
        "change_events", "updates", "incident_impacts", "incidents", "providers",
    ):  # fmt: skip
        op.drop_table(name)

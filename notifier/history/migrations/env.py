"""Alembic's environment: migrate the engine `notifier.history.db.upgrade` hands over."""

from __future__ import annotations

from alembic import context

from notifier.history.tables import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata)
    with context.begin_transaction():
        context.run_migrations()

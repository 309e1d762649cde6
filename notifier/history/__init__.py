"""Durable history: every incident, alert, delivery attempt, page and silence in a SQL
database (SQLAlchemy Core + Alembic), fed from the Redis outbox, with reports and the
dependencies learned from it. Redis stays the hot state; the database is the record."""

"""The history database every test here runs on: SQLite always, and PostgreSQL too when
NOTIFIER_TEST_DATABASE_URL names a server (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres).
On PostgreSQL the session creates a database of its own and drops it at the end; each
test starts from freshly migrated, empty tables."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from notifier.history import db
from notifier.history.tables import metadata

PG_ENV = "NOTIFIER_TEST_DATABASE_URL"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    server = os.environ.get(PG_ENV)
    if not server:
        pytest.skip(f"PostgreSQL not tested: set {PG_ENV} (make test does when one answers)")
    name = f"notifier_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        db.engine_for(url).dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def history_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty history database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'history.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_url")
        with db.engine_for(url).begin() as conn:
            metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    db.upgrade(url)
    return url

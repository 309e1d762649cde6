"""Which database, its engine, and its migrations.

`NOTIFIER_DATABASE_URL` picks it (`postgresql+psycopg://user:pass@host/db` for
PostgreSQL through psycopg 3); unset, the history lives in SQLite at
`<NOTIFIER_DATA_DIR>/history.sqlite3`, which needs nothing installed. `upgrade` runs the
Alembic migrations shipped in this package (`notifier db upgrade`; `notifier run`
does it itself on SQLite).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, inspect
from sqlalchemy.engine import make_url

from notifier.config.settings import Settings

SQLITE_FILE = "history.sqlite3"
CONNECT_TIMEOUT_S = 5  # a database that does not answer must not hold a worker long
MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(settings: Settings) -> str:
    """The configured URL, else the SQLite file under the data dir."""
    if settings.database_url is not None and settings.database_url.get_secret_value():
        return settings.database_url.get_secret_value()
    return f"sqlite:///{(settings.data_dir / SQLITE_FILE).resolve()}"


def shown(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


@cache
def engine_for(url: str) -> Engine:
    """One engine per URL and process (pooled connections, checked before use)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return create_engine(url, connect_args={"timeout": CONNECT_TIMEOUT_S})
    return create_engine(
        url, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_S}
    )


def engine(settings: Settings) -> Engine:
    return engine_for(database_url(settings))


def upgrade(url: str, revision: str = "head") -> None:
    """Run the migrations up to `revision` (idempotent: at head, nothing happens)."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine_for(url)
    command.upgrade(cfg, revision)


@cache
def ready(url: str) -> Engine:
    """The engine, with the default SQLite file migrated first, once per process (it
    needs no step of its own); another database is migrated by `notifier db upgrade`."""
    if is_sqlite(url):
        upgrade(url)
    return engine_for(url)


def at_head(url: str) -> bool:
    """Whether the database has the tables (migrated at least once)."""
    return inspect(engine_for(url)).has_table("alembic_version")


def utc(value: datetime | None) -> datetime | None:
    """A time read back from the database, as aware UTC (SQLite returns it naive)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

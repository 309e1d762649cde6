"""`notifier db upgrade`: create or migrate the history database's tables.

`notifier run` migrates the default SQLite file itself; a PostgreSQL database
(`NOTIFIER_DATABASE_URL`) is migrated by this command, once per release.
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.exc import SQLAlchemyError

from notifier.config.settings import get_settings
from notifier.history import db


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("db", help="the history database", description=__doc__)
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = actions.add_parser("upgrade", help="run the migrations (idempotent)")
    up.add_argument("--revision", default="head", help="migrate to this revision (default head)")
    up.set_defaults(func=run_upgrade)


def run_upgrade(args: argparse.Namespace) -> int:
    url = db.database_url(get_settings())
    try:
        db.upgrade(url, args.revision)
    except SQLAlchemyError as exc:
        print(f"notifier db upgrade: {db.shown(url)}: {type(exc).__name__}: "
              f"{(str(exc).splitlines() or [''])[0]}", file=sys.stderr)  # fmt: skip
        return 2
    print(f"notifier db upgrade: {db.shown(url)} is at the latest revision")
    return 0

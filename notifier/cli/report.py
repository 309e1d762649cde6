"""`notifier report`: each vendor's record for a month or a quarter, from the history.

Per provider and per component: incidents, minutes at each impact, time to resolve
(median, p90), the longest incident, the share that began while an upstream had one
open; then per incident who was told, on which channel, when, and the acknowledgement.
Text by default; `--json` (everything) or `--csv` (one row per provider and component).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from notifier.annotate.graph import upstreams
from notifier.config.load import ConfigError, load_config
from notifier.config.settings import get_settings
from notifier.history import db, period, render
from notifier.history.report import build


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("report", help="each vendor's record for a month or quarter",
                       description=__doc__)  # fmt: skip
    p.add_argument("--provider", action="append", help="only this provider (repeatable)")
    when = p.add_mutually_exclusive_group()
    when.add_argument("--month", help="e.g. 2025-11 (default: this month)")
    when.add_argument("--quarter", help="e.g. 2025Q4")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="JSON, with the delivery record")
    fmt.add_argument("--csv", action="store_true", help="CSV, one row per provider/component")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    try:
        chosen = (period.quarter(args.quarter) if args.quarter
                  else period.month(args.month or f"{now:%Y-%m}"))  # fmt: skip
    except ValueError as exc:
        print(f"notifier report: {exc}", file=sys.stderr)
        return 2
    settings = get_settings()
    names, graph = {}, {}
    try:
        config = load_config(settings.config_path())
        names = {p.id: p.name for p in config.resolved_providers()}
        deps = config.dependency_graph()
        graph = {node: set(upstreams(node, deps)) for node in deps}
    except ConfigError as exc:
        print(f"notifier report: no dependency graph ({exc.errors[0] if exc.errors else exc});"
              " the upstream share reads 0", file=sys.stderr)  # fmt: skip
    url = db.database_url(settings)
    try:
        report = build(db.ready(url), chosen, now, graph, args.provider)
    except SQLAlchemyError as exc:
        print(f"notifier report: {db.shown(url)}: {type(exc).__name__}: "
              f"{(str(exc).splitlines() or [''])[0]}. Run `notifier db upgrade`?",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.json:
        sys.stdout.write(render.as_json(report))
    elif args.csv:
        sys.stdout.write(render.as_csv(report))
    else:
        sys.stdout.write(render.text(report, names))
    return 0

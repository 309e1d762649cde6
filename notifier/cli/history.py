"""`notifier history import SOURCE...`: load a provider's past incidents into the history.

A SOURCE is one of:
- a directory of saved snapshots in the layout `notifier replay` reads
  (DIR/<provider-id>/<YYYYMMDDTHHMMSSZ>.<ext>): every incident they show, the same
  ones `notifier replay DIR` counts;
- a feed document, as a file or an http(s) URL, with `--provider`: a Statuspage
  `incidents.json` or `history.atom`, an incident.io or Google Cloud `incidents.json`,
  AWS's history (`data.json`); the format is detected unless `--format` names it.
Keyed on the provider's own incident id: importing again adds nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from notifier.config.load import ConfigError, load_config
from notifier.config.settings import Settings, get_settings
from notifier.feeds import registry
from notifier.feeds.errors import FeedError
from notifier.feeds.fetch import Fetcher
from notifier.history import db
from notifier.history.importer import Imported, import_incidents
from notifier.models import Incident
from notifier.pipeline.archive import snapshot_incidents


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    raw = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser("history", help="the history database: import past incidents",
                       description=__doc__, formatter_class=raw)  # fmt: skip
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    imp = actions.add_parser("import", help="import past incidents (idempotent)")
    imp.add_argument("sources", nargs="+", metavar="SOURCE",
                     help="snapshot directory, feed file or http(s) URL")  # fmt: skip
    imp.add_argument("--provider", help="provider id of a feed file or URL")
    imp.add_argument("--format", default="auto", help="feed format (default: detected)")
    imp.set_defaults(func=run_import)


def run_import(args: argparse.Namespace) -> int:
    settings = get_settings()
    url = db.database_url(settings)
    names = _names(settings)
    incidents: list[Incident] = []
    for source in args.sources:
        found = _read(source, args, settings)
        if found is None:
            return 2
        incidents += found
    try:
        done = import_incidents(db.ready(url), incidents, names)
    except SQLAlchemyError as exc:
        print(f"notifier history import: {db.shown(url)}: {type(exc).__name__}: "
              f"{(str(exc).splitlines() or [''])[0]}", file=sys.stderr)  # fmt: skip
        return 2
    print(_told(done, db.shown(url)))
    return 0


def _told(done: Imported, where: str) -> str:
    return (f"notifier history import: {done.seen} incidents read, {done.added} new, "
            f"{done.seen - done.added} already known, into {where}")  # fmt: skip


def _read(source: str, args: argparse.Namespace, settings: Settings) -> list[Incident] | None:
    def report(message: str) -> None:
        print(f"notifier history import: {message}", file=sys.stderr)

    path = Path(source)
    if path.is_dir():
        seen = snapshot_incidents(path, None, report)
        report(f"{source}: {seen.summary()}")
        return list(seen.incidents.values())
    if not args.provider:
        report(f"{source}: give --provider ID for a feed file or URL")
        return None
    try:
        if source.startswith(("http://", "https://")):
            with Fetcher(settings.http_timeout, settings.http_connect_timeout,
                         settings.max_feed_bytes) as fetcher:  # fmt: skip
                body = fetcher.fetch(source).body or b""
        else:
            body = path.read_bytes()
        doc = registry.parse(body, args.format, args.provider)
    except (OSError, FeedError, ValueError) as exc:
        report(f"{source}: {type(exc).__name__}: {exc}")
        return None
    report(f"{source}: {len(doc.incidents)} incidents")
    return list(doc.incidents)


def _names(settings: Settings) -> dict[str, str]:
    """Display names from the subscription file, if it loads."""
    try:
        config = load_config(settings.config_path())
    except ConfigError:
        return {}
    return {p.id: p.name for p in config.resolved_providers()}

"""`notifier providers check [ID…|--all]`: fetch each feed now, from this machine.

Per provider: reachable, the format as expected, how many components and open
incidents, or the reason in plain words. Feeds are fetched a few at a time
(`--concurrency`, at most 16) with polling's limits. Exit status 1 when any failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TextIO

from notifier.cli.providers.common import Reading, fetcher, read_feed
from notifier.config.catalog import CatalogEntry, load_catalog
from notifier.config.suggest import closest
from notifier.feeds.discover.find import discover
from notifier.feeds.fetch import Fetcher
from notifier.text import inert_stream

MAX_CONCURRENCY = 16


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = actions.add_parser("check", help="fetch catalog feeds now and say what each answers")
    p.add_argument("ids", nargs="*", metavar="ID", help="catalog ids to check")
    p.add_argument("--all", action="store_true", help="check every supported entry")
    p.add_argument("--concurrency", type=int, default=8, help="feeds fetched at once (default 8)")
    p.add_argument("--json", action="store_true", help="print JSON lines, one per provider")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    stream = inert_stream(out or sys.stdout)  # feed text: no terminal escapes
    catalog = load_catalog()
    if args.all:
        entries = [e for e in catalog.providers.values() if e.support == "supported"]
    elif args.ids:
        unknown = [i for i in args.ids if i not in catalog]
        for i in unknown:
            near = closest(i, catalog.providers)
            print(f"notifier providers check: {i!r} is not in the catalog"
                  + (f"; did you mean {near!r}?" if near else ""), file=sys.stderr)  # fmt: skip
        if unknown:
            return 2
        entries = [e for i in args.ids if (e := catalog.get(i)) is not None]
    else:
        print("notifier providers check: name catalog ids, or --all", file=sys.stderr)
        return 2
    workers = max(1, min(args.concurrency, MAX_CONCURRENCY))
    failed = 0
    with fetcher() as f, ThreadPoolExecutor(max_workers=workers) as pool:
        for entry, result in zip(
            entries, pool.map(lambda e: check_one(f, e), entries), strict=True
        ):
            failed += not result["ok"]
            if args.json:
                stream.write(json.dumps(result) + "\n")
            else:
                stream.write(line(entry, result) + "\n")
            stream.flush()
    if not args.json:
        stream.write(f"{len(entries) - failed} of {len(entries)} answered with a readable feed\n")
    return 1 if failed else 0


def check_one(f: Fetcher, entry: CatalogEntry) -> dict[str, Any]:
    """What one entry's feed answers now, as a JSON-ready dict with `ok` and `says`."""
    base: dict[str, Any] = {"provider": entry.id}
    if entry.support == "unsupported":
        return {**base, "ok": True, "says": "skipped: no public feed to check"}
    if entry.feed is not None:
        url, fmt = entry.feed.url, entry.feed.format
    else:
        found = discover(entry.status_page, f)
        if found.best is None:
            why = "; ".join(found.problems[:2]) or "no candidate parsed as a feed"
            return {**base, "ok": False, "url": entry.status_page,
                    "says": f"no feed found behind the page ({why})"}  # fmt: skip
        url, fmt = found.best.url, found.best.format
    r: Reading = read_feed(f, url, fmt)
    if not r.ok:
        return {**base, "ok": False, "url": url, "says": r.reason}
    says = (f"ok: {r.format}, {len(r.components)} components, {r.open_incidents} open "
            f"incident{'s' if r.open_incidents != 1 else ''}")  # fmt: skip
    if r.format_note:
        says += f" (format: {r.format_note})"
    return {**base, "ok": True, "url": url, "format": r.format, "components": len(r.components),
            "open_incidents": r.open_incidents, "says": says}  # fmt: skip


def line(entry: CatalogEntry, result: dict[str, Any]) -> str:
    mark = "ok  " if result["ok"] else "FAIL"
    return f"{mark} {entry.id:<24} {result['says']}"

"""`notifier providers check [ID…|--all]`: fetch each feed now, from this machine.

With no id, the providers the subscription file watches are checked, with the feed the
service would poll (the file's own feed or page wins over the catalog's). An id may name
a provider of the subscription file or of the catalog; an unknown one is named, with the
closest match, and the others are checked all the same. Per provider: reachable, the
format as expected, how many components and open incidents, or the reason in plain words.
Feeds are fetched a few at a time (`--concurrency`, at most 16) with polling's limits.
Exit status 1 when any feed failed, 2 when an id is unknown or the file cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TextIO

from notifier.cli._shared import emit, json_flag
from notifier.cli.providers.common import Reading, fetcher, read_feed
from notifier.config.catalog import Catalog, CatalogEntry, load_catalog
from notifier.config.load import ConfigError, load_config
from notifier.config.schema.resolution import ResolvedProvider
from notifier.config.settings import get_settings
from notifier.config.suggest import closest
from notifier.feeds.discover.find import discover
from notifier.feeds.fetch import Fetcher
from notifier.text import inert_stream

MAX_CONCURRENCY = 16
USAGE = 2


@dataclass(frozen=True, slots=True)
class FeedToCheck:
    """One feed to check: its URL and format, or the page to find it behind."""

    id: str
    url: str = ""
    format: str = "auto"
    page: str = ""
    skipped: bool = False  # the catalog knows no public feed for it

    @classmethod
    def of_entry(cls, entry: CatalogEntry) -> FeedToCheck:
        if entry.feed is not None:
            return cls(entry.id, entry.feed.url, entry.feed.format)
        return cls(entry.id, page=entry.status_page, skipped=entry.support == "unsupported")

    @classmethod
    def of_watched(cls, p: ResolvedProvider) -> FeedToCheck:
        return cls(p.id, p.url, p.format, p.page)


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = actions.add_parser(
        "check", help="fetch feeds now and say what each answers (default: the watched ones)"
    )
    p.add_argument("ids", nargs="*", metavar="ID",
                   help="provider ids, of the subscription file or the catalog")  # fmt: skip
    p.add_argument("--all", action="store_true", help="check every supported catalog entry")
    p.add_argument("--concurrency", type=int, default=8, help="feeds fetched at once (default 8)")
    json_flag(p, "provider")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    stream = inert_stream(out or sys.stdout)  # feed text: no terminal escapes
    catalog = load_catalog()
    unknown: list[str] = []
    if args.all:
        targets = [FeedToCheck.of_entry(e) for e in catalog.providers.values()
                   if e.support == "supported"]  # fmt: skip
    else:
        watched = _watched(catalog, required=not args.ids)
        if watched is None:
            return USAGE
        targets, unknown = _chosen(args.ids, watched, catalog) if args.ids else (watched, [])
    failed = _check_all(targets, args, stream)
    if not args.json:
        stream.write(f"{len(targets) - failed} of {len(targets)} answered with a readable feed"
                     + (f"; {len(unknown)} unknown" if unknown else "") + "\n")  # fmt: skip
    return USAGE if unknown else (1 if failed else 0)


def _watched(catalog: Catalog, required: bool) -> list[FeedToCheck] | None:
    """The subscription file's providers; None (having said why) when the file is needed
    and cannot be read; [] when it is not needed."""
    path = get_settings().config_path()
    try:
        config = load_config(path, catalog)
    except ConfigError as exc:
        if not required:
            return []
        print(f"notifier providers check: {exc}\nName catalog ids, or --all", file=sys.stderr)
        return None
    return [FeedToCheck.of_watched(p) for p in config.resolved_providers()]


def _chosen(
    ids: list[str], watched: list[FeedToCheck], catalog: Catalog
) -> tuple[list[FeedToCheck], list[str]]:
    """The targets the ids name, the file's first; the unknown ids are said on stderr."""
    mine = {t.id: t for t in watched}
    targets, unknown = [], []
    for i in dict.fromkeys(ids):
        entry = catalog.get(i)
        if i in mine:
            targets.append(mine[i])
            continue
        if entry is not None:
            targets.append(FeedToCheck.of_entry(entry))
            continue
        unknown.append(i)
        near = closest(i, [*mine, *catalog.providers])
        hint = f"; did you mean {near!r}?" if near else ""
        print(f"notifier providers check: {i!r} is neither in the subscription file nor in "
              f"the catalog{hint}", file=sys.stderr)  # fmt: skip
    return targets, unknown


def _check_all(targets: list[FeedToCheck], args: argparse.Namespace, out: TextIO) -> int:
    workers = max(1, min(args.concurrency, MAX_CONCURRENCY))
    failed = 0
    with fetcher() as f, ThreadPoolExecutor(max_workers=workers) as pool:
        for target, result in zip(
            targets, pool.map(lambda t: check_one(f, t), targets), strict=True
        ):
            failed += not result["ok"]
            if args.json:
                emit(result, out)
            else:
                out.write(line(target, result) + "\n")
            out.flush()
    return failed


def check_one(f: Fetcher, target: FeedToCheck) -> dict[str, Any]:
    """What one feed answers now, as a JSON-ready dict with `ok` and `says`."""
    base: dict[str, Any] = {"provider": target.id}
    if target.skipped:
        return {**base, "ok": True, "says": "skipped: no public feed to check"}
    url, fmt = target.url, target.format
    if not url:
        found = discover(target.page, f)
        if found.best is None:
            why = "; ".join(found.problems[:2]) or "no candidate parsed as a feed"
            return {**base, "ok": False, "url": target.page,
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


def line(target: FeedToCheck, result: dict[str, Any]) -> str:
    mark = "ok  " if result["ok"] else "FAIL"
    return f"{mark} {target.id:<24} {result['says']}"

"""`notifier providers components ID`: the component names a provider's feed lists, spelled
as the feed spells them, so a filter is written without guessing.

From the live feed; with `--last-poll` (or when the feed cannot be read now), the names
the running service's polls have seen, kept in Redis.
"""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

import redis

from notifier.cli._shared import emit_lines, json_flag
from notifier.cli.providers.common import fetcher, read_feed
from notifier.config.catalog import load_catalog
from notifier.config.settings import get_settings
from notifier.config.suggest import closest
from notifier.feeds.discover.find import discover
from notifier.store.conn.connect import connect
from notifier.store.conn.url import resolve_redis_url
from notifier.store.feeds.discovered import DiscoveredStore
from notifier.text import inert_stream


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = actions.add_parser("components", help="the component names a provider's feed lists")
    p.add_argument("id", help="catalog id")
    p.add_argument(
        "--last-poll", action="store_true", help="only the names earlier polls saw (Redis)"
    )
    json_flag(p, "component")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    stream = inert_stream(out or sys.stdout)  # feed text: no terminal escapes
    catalog = load_catalog()
    entry = catalog.get(args.id)
    if entry is None:
        near = closest(args.id, catalog.providers)
        print(f"notifier providers components: {args.id!r} is not in the catalog"
              + (f"; did you mean {near!r}?" if near else ""), file=sys.stderr)  # fmt: skip
        return 2
    reason = "--last-poll"
    if not args.last_poll:
        live, reason = _live(entry.feed.url if entry.feed else None, entry.feed.format
                             if entry.feed else "auto", entry.status_page)  # fmt: skip
        if live:
            return _show(stream, args.json, live, "feed",
                         f"# {len(live)} components listed by {entry.id}'s feed now")  # fmt: skip
    seen = sorted(_last_poll(entry.id), key=str.lower)
    if seen:
        return _show(stream, args.json, seen, "last_poll",
                     f"# {len(seen)} components seen by earlier polls ({reason})")  # fmt: skip
    known = list(entry.components)
    if known:
        heading = f"# from the catalog, not the feed ({reason}; no poll has seen any)"
        return _show(stream, args.json, known, "catalog", heading)
    print(f"notifier providers components: no components known for {entry.id} ({reason})",
          file=sys.stderr)  # fmt: skip
    return 1


def _show(out: TextIO, as_json: bool, names: list[str], source: str, heading: str) -> int:
    """The names under a `# heading` line, or JSON Lines saying where each came from."""
    if as_json:
        emit_lines(({"component": n, "source": source} for n in names), out)
    else:
        out.write(f"{heading}\n" + "\n".join(names) + "\n")
    return 0


def _live(url: str | None, fmt: str, page: str) -> tuple[list[str], str]:
    with fetcher() as f:
        if url is None:
            found = discover(page, f)
            if found.best is None:
                return [], "no feed found behind the page"
            url, fmt = found.best.url, found.best.format
        r = read_feed(f, url, fmt)
    if not r.ok:
        return [], f"the feed could not be read now: {r.reason}"
    return list(r.components), "the feed lists none"


def _last_poll(provider: str) -> set[str]:
    s = get_settings()
    url = resolve_redis_url(s.redis_url, s.data_dir)
    if url is None:
        return set()
    try:
        return DiscoveredStore(connect(url), s.key_prefix).components(provider)
    except redis.RedisError:
        return set()

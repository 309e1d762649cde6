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

from notifier.cli.providers.common import fetcher, read_feed
from notifier.config.catalog import load_catalog
from notifier.config.settings import get_settings
from notifier.config.suggest import closest
from notifier.feeds.discover.find import discover
from notifier.store.conn.connect import connect
from notifier.store.conn.url import resolve_redis_url
from notifier.store.feeds.discovered import DiscoveredStore


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = actions.add_parser("components", help="the component names a provider's feed lists")
    p.add_argument("id", help="catalog id")
    p.add_argument(
        "--last-poll", action="store_true", help="only the names earlier polls saw (Redis)"
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    stream = out or sys.stdout
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
            stream.write(f"# {len(live)} components listed by {entry.id}'s feed now\n")
            stream.write("\n".join(live) + "\n")
            return 0
    seen = sorted(_last_poll(entry.id), key=str.lower)
    if seen:
        stream.write(f"# {len(seen)} components seen by earlier polls ({reason})\n")
        stream.write("\n".join(seen) + "\n")
        return 0
    known = list(entry.components)
    if known:
        stream.write(f"# from the catalog, not the feed ({reason}; no poll has seen any)\n")
        stream.write("\n".join(known) + "\n")
        return 0
    print(f"no components known for {entry.id} ({reason})", file=stream)
    return 1


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

"""`notifier providers` (no action): the built-in provider catalog as a table (or JSON).

`--watched`: the subscription file's providers instead, each with the interval it is
polled at now and why (adaptive polling), when it is next polled, and whether it
takes Statuspage webhooks and runs probes. The interval and its reason are what the
running service last decided (Redis, `notifier.store.feeds.cadence`); without a reachable
Redis they are worked out from the file alone, and say so."""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import redis

from notifier.cli._shared import emit_lines
from notifier.config.catalog import Catalog, CatalogEntry, load_catalog
from notifier.config.load import ConfigError, load_config
from notifier.config.settings import get_settings
from notifier.store.conn.connect import connect
from notifier.store.conn.url import resolve_redis_url
from notifier.store.feeds.cadence import Cadence, poll_member
from notifier.text import inert_stream

COLUMNS = ("ID", "NAME", "FORMAT", "SUPPORT", "UPSTREAM", "FEED")


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    stream = inert_stream(out or sys.stdout)  # feed text: no terminal escapes
    if getattr(args, "watched", False):
        return show_watched(stream, as_json=args.json)
    catalog = load_catalog()
    if args.json:
        emit_lines(as_json(catalog), stream)
    else:
        # On a terminal, a row never wraps: a long note or URL is cut to fit.
        width = shutil.get_terminal_size().columns if stream.isatty() else None
        stream.write(render_table(catalog, width))
    return 0


def row(entry: CatalogEntry) -> tuple[str, ...]:
    """One table row; an unsupported entry shows its note where the feed would be."""
    upstream = ",".join(dict.fromkeys(d.provider for d in entry.depends_on)) or "-"
    if entry.feed is None and entry.discover:
        return (entry.id, entry.name, "discover", entry.support, upstream, entry.status_page)
    if entry.feed is None:
        return (entry.id, entry.name, "-", entry.support, upstream, _one_line(entry.note))
    return (entry.id, entry.name, entry.feed.format, entry.support, upstream, entry.feed.url)


def render_table(catalog: Catalog, width: int | None = None) -> str:
    """Aligned columns, providers sorted by id; the last column is never padded.
    `width`: cut each line to it, ending in '…' (`--json` has everything)."""
    rows = [COLUMNS, *(row(e) for e in sorted(catalog.providers.values(), key=lambda e: e.id))]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS) - 1)]
    lines = [
        "  ".join([*(cell.ljust(w) for cell, w in zip(r, widths, strict=False)), r[-1]])
        for r in rows
    ]
    return "\n".join(_fit(line.rstrip(), width) for line in lines) + "\n"


def _fit(line: str, width: int | None) -> str:
    if width is None or len(line) <= width:
        return line
    return line[: max(1, width - 1)] + "…"


def as_json(catalog: Catalog) -> list[dict[str, Any]]:
    return [
        entry.model_dump(mode="json")
        for entry in sorted(catalog.providers.values(), key=lambda e: e.id)
    ]


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ---- --watched -----------------------------------------------------------------------

WATCHED_COLUMNS = ("ID", "INTERVAL", "WHY", "NEXT POLL", "WEBHOOK", "PROBES")


def show_watched(out: TextIO, as_json: bool = False) -> int:
    settings = get_settings()
    try:
        config = load_config(settings.config_path())
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    cadence = _cadence(settings.redis_url, settings.data_dir, settings.key_prefix)
    reasons = cadence.reasons() if cadence is not None else {}
    rows: list[dict[str, Any]] = []
    now = datetime.now(UTC)
    for p in config.resolved_providers():
        why = reasons.get(p.id)
        due = cadence.when(poll_member(p.id)) if cadence is not None else None
        rows.append({
            "id": p.id,
            "interval_s": why.interval if why else p.poll_interval,
            "why": why.why if why else "configured (the service's view needs Redis)",
            "poll_interval_s": p.poll_interval,
            "active_poll_interval_s": p.active_poll_interval,
            "next_poll_in_s": round(max(0.0, (due - now).total_seconds()), 1) if due else None,
            "webhook": p.webhook_token is not None,
            "probes": len(p.probes),
        })  # fmt: skip
    if as_json:
        emit_lines(rows, out)
        return 0
    table = [WATCHED_COLUMNS] + [
        (r["id"], f"{r['interval_s']:.0f}s", r["why"],
         "-" if r["next_poll_in_s"] is None else f"in {r['next_poll_in_s']:.0f}s",
         "yes" if r["webhook"] else "-", str(r["probes"]) if r["probes"] else "-")
        for r in rows
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(WATCHED_COLUMNS))]
    for row in table:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")
    return 0


def _cadence(url: str | None, data_dir: Any, prefix: str) -> Cadence | None:
    """The service's cadence store when its Redis answers within a second, else None."""
    resolved = resolve_redis_url(url, data_dir)
    if resolved is None:
        return None
    client = connect(resolved, failover_wait=0, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    except (redis.RedisError, OSError):
        return None
    return Cadence(client, prefix)

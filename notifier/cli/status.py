"""`notifier status`: is the service doing its job, and one row per watched provider —
feed health, last poll, active incidents.

First the same checks as /healthz (`notifier.pipeline.health`): Redis, the beat's
heartbeat, live workers, overdue work, each with its age and threshold; the command
exits 1 when any fails, so a script or a probe can use it.

A failing feed shows why in plain words, from the cause its poll recorded
(`notifier.feeds.errors`): `UNREACHABLE: connection refused: …` when the page could not
be reached, `UNREADABLE: answered with an HTML page, not a feed` when it answered with
something that is not a readable feed.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import redis

from notifier.config.load import ConfigError, load_config
from notifier.config.schema import ResolvedProvider
from notifier.config.settings import get_settings
from notifier.feeds.errors import cause_words, is_unreadable
from notifier.pipeline.health import Health, Limits, observe
from notifier.store.discovered import DiscoveredStore
from notifier.store.state import StateStore
from notifier.store.url import resolve_redis_url


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("status", help="feed health, last poll and active incidents per provider")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    settings = get_settings()
    try:
        config = load_config(settings.config_path())
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    url = resolve_redis_url(settings.redis_url, settings.data_dir)
    if url is None:
        print("error: no Redis (set NOTIFIER_REDIS_URL, or start `notifier run`)", file=sys.stderr)
        return 2
    client = redis.Redis.from_url(url)
    now = datetime.now(UTC)
    health = observe(client, settings.key_prefix, Limits.from_settings(settings), now)
    store = StateStore(client, settings.key_prefix)
    providers = config.resolved_providers()
    rows = status_rows(store, [p.id for p in providers], now)
    found = discovered_rows(DiscoveredStore(client, settings.key_prefix), providers)
    if args.json:
        json.dump({"health": health.to_json(), "providers": rows, "discovered": found}, out,
                  indent=2)  # fmt: skip
        out.write("\n")
    else:
        out.write(render_health(health) + "\n\n" + render(rows) + "\n")
        if found:
            out.write("\n" + render_discovered(found) + "\n")
    return 0 if health.healthy else 1


def render_health(health: Health) -> str:
    """`service: healthy`, then one line per check: name, OK or FAILING, and why."""
    lines = [f"service: {'healthy' if health.healthy else 'UNHEALTHY'}"]
    width = max(len(c.name) for c in health.checks)
    for c in health.checks:
        limit = f" (limit {c.threshold_s:g} s)" if c.threshold_s is not None else ""
        state = "ok     " if c.ok else "FAILING"
        lines.append(f"  {c.name.ljust(width)}  {state}  {c.detail}{limit}")
    return "\n".join(lines)


def status_rows(store: StateStore, provider_ids: list[str], now: datetime) -> list[dict[str, Any]]:
    active: dict[str, list[str]] = {}
    for incident in store.recent_incidents(now):
        if incident.is_active:
            active.setdefault(incident.provider, []).append(f"{incident.id} {incident.title}")
    rows = []
    for pid in provider_ids:
        raw = store.status(pid)
        rows.append(
            {
                "provider": pid,
                "health": _health(raw),
                "last_poll": raw.get("polled_at") or "never",
                "outcome": raw.get("outcome", ""),
                "cause": cause_words(raw["cause"]) if raw.get("cause") else "",
                "last_error": raw.get("last_error", ""),
                "active_incidents": active.get(pid, []),
            }
        )
    return rows


def discovered_rows(
    store: DiscoveredStore, providers: list[ResolvedProvider]
) -> list[dict[str, Any]]:
    """Providers watched by their status page: the feed found there, and its moves."""
    rows = []
    for p in providers:
        if not p.discovers:
            continue
        known = store.get(p.id, p.page)
        moves = [{"at": m.at, "from": m.old, "to": m.new, "why": m.why} for m in store.moves(p.id)]
        rows.append({
            "provider": p.id, "page": p.page, "feed": known.url if known else "",
            "format": known.format if known else "", "platform": known.platform if known else "",
            "moves": moves,
        })  # fmt: skip
    return rows


def render_discovered(rows: list[dict[str, Any]]) -> str:
    """One line per provider watched by its page; each move of its feed, newest first."""
    lines = ["Feeds discovered from status pages:"]
    for r in rows:
        feed = f"{r['feed']} ({r['format']})" if r["feed"] else "none found yet"
        lines.append(f"  {r['provider']}: {r['page']} -> {feed}")
        for m in r["moves"]:
            lines.append(f"    moved {m['at']}: {m['from']} -> {m['to']} ({m['why']})")
    return "\n".join(lines)


def _health(raw: dict[str, str]) -> str:
    if not raw.get("polled_at"):
        return "not polled yet"
    failures = int(raw.get("failures") or 0)
    cause = raw.get("cause") or None
    why = f": {cause_words(cause)}" if cause else ""
    if raw.get("unreachable") == "1":
        state = "UNREADABLE" if is_unreadable(cause) else "UNREACHABLE"
        return f"{state}{why} ({failures} failure{'s' if failures != 1 else ''})"
    return f"failing ({failures}){why}" if failures else "ok"


def render(rows: list[dict[str, Any]]) -> str:
    header = ("PROVIDER", "HEALTH", "LAST POLL", "OUTCOME", "ACTIVE INCIDENTS")
    table = [
        (
            r["provider"],
            r["health"],
            r["last_poll"],
            r["outcome"],
            "; ".join(r["active_incidents"]) or "-",
        )
        for r in rows
    ]
    widths = [max([len(h), *(len(row[i]) for row in table)]) for i, h in enumerate(header[:-1])]
    lines = []
    for row in [header, *table]:
        cells = [c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, row[-1]]))
    return "\n".join(lines)

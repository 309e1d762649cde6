"""`notifier status`: is the service doing its job, and one row per watched provider —
feed health, last poll, active incidents; then what is in quarantine (events and
alerts given up on after three failed tries, `notifier quarantine`).

First the same checks as /healthz (`notifier.pipeline.runtime.health`): Redis, the beat's
heartbeat, live workers, overdue work, each with its age and threshold; the command
exits 1 when any fails, so a script or a probe can use it.

A failing feed shows why in plain words, from the cause its poll recorded
(`notifier.feeds.errors`), after the feed's state in the words every surface uses
(`notifier.feeds.states`): `unreachable: connection refused: …` when the page could not
be reached, `unreadable: answered with an HTML page, not a feed` when it answered with
something that is not a readable feed, `failing` before that is announced, `unknown`
before the first poll.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import redis

from notifier.cli import quarantine
from notifier.cli._shared import emit, json_flag, redis_url
from notifier.config.load import ConfigError, load_config
from notifier.config.schema.resolution import ResolvedProvider
from notifier.config.settings import get_settings
from notifier.feeds.errors import cause_words
from notifier.feeds.states import FeedState, feed_state
from notifier.models import iso
from notifier.pipeline.runtime.blindness import Watched
from notifier.pipeline.runtime.health import Health, Limits, observe
from notifier.store.conn.connect import connect
from notifier.store.delivery.deliverylog import DeliveryLog
from notifier.store.delivery.status import AlertStatus
from notifier.store.feeds.discovered import DiscoveredStore
from notifier.store.feeds.incidents import IncidentIndex
from notifier.store.feeds.providers import ProviderStore
from notifier.store.ops.quarantine import QuarantineStore
from notifier.store.ops.reloads import ConfigReloads, ReloadState
from notifier.store.ops.silences import SilenceStore
from notifier.text import inert_stream, one_line


def watched_of_providers(providers: list[ResolvedProvider]) -> tuple[Watched, ...]:
    return tuple(Watched(p.id, p.poll_interval) for p in providers)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("status", help="feed health, last poll and active incidents per provider")
    json_flag(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    out = inert_stream(out)  # feed titles, ids, errors and URLs: no terminal escapes
    settings = get_settings()
    providers: list[ResolvedProvider] = []
    try:
        providers = load_config(settings.config_path()).resolved_providers()
        watched: list[str] | None = [p.id for p in providers]
    except ConfigError as exc:
        # A running service keeps the config it loaded; say what is wrong and go on.
        print(f"the subscription file is invalid (a running service keeps the config it "
              f"loaded):\n{exc}", file=sys.stderr)  # fmt: skip
        watched = None
    url = redis_url()
    client = connect(url)
    now = datetime.now(UTC)
    limits = Limits.from_settings(settings)
    health = observe(client, settings.key_prefix, limits, now, watched_of_providers(providers), url)
    prefix = settings.key_prefix
    store, index = ProviderStore(client, prefix), IncidentIndex(client, prefix)
    if watched is None:  # from what the service has seen, for want of a readable file
        watched = sorted({i.provider for i in index.recent_incidents(now)})
    rows = status_rows(store, index, watched, now)
    reload_state = ConfigReloads(client, settings.key_prefix).state()
    muting = muting_lines(client, settings.key_prefix, now)
    # Not a health check: an item given up on is told, not a reason to restart anything.
    held = quarantine.report(QuarantineStore(client, settings.key_prefix), now, limit=5)
    found = discovered_rows(DiscoveredStore(client, settings.key_prefix), providers)
    if args.json:
        report = {"health": health.to_json(), "config": config_json(reload_state),
                  "silences": muting, "providers": rows, "quarantine": held,
                  "discovered": found}  # fmt: skip
        emit(report, out)
    else:
        parts = [render_health(health), render_config(reload_state), *muting]
        tables = ["\n".join(parts), render(rows), quarantine.render(held)]
        if found:
            tables.append(render_discovered(found))
        out.write("\n\n".join(t for t in tables if t) + "\n")
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


def render_config(state: ReloadState) -> str:
    """`config: 3f2a… (generation 2)`, and how the last reload went, with its errors."""
    line = f"config: {state.hash or 'unknown'} (generation {state.generation})"
    if state.reload_at is None:
        return line
    if state.reload_ok:
        return f"{line}; last reload {iso(state.reload_at)}: ok"
    errors = "\n".join(f"    {e}" for e in state.reload_error.splitlines())
    return f"{line}; last reload {iso(state.reload_at)} FAILED, the config above stays:\n{errors}"


def config_json(state: ReloadState) -> dict[str, Any]:
    return {"hash": state.hash, "generation": state.generation,
            "last_reload_at": iso(state.reload_at), "last_reload_ok": state.reload_ok,
            "last_reload_error": state.reload_error}  # fmt: skip


def muting_lines(client: redis.Redis, prefix: str, now: datetime) -> list[str]:
    """One line per active silence, with how many of the recent deliveries it muted."""
    active = [s for s in SilenceStore(client, prefix).all(now) if s.active(now)]
    if not active:
        return []
    muted: dict[str, int] = {}
    for rec in DeliveryLog(client, prefix).recent(200):
        if rec.outcome is AlertStatus.SILENCED:
            sid = rec.message_id.removeprefix("silence:")
            muted[sid] = muted.get(sid, 0) + 1
    lines = [f"silences: {len(active)} active"]
    for s in active:
        lines.append(f"  {s.id}  {s.matchers()} until {iso(s.ends_at)} by "
                     f"{one_line(s.created_by)}: {one_line(s.reason)} "
                     f"({muted.get(s.id, 0)} muted lately)")  # fmt: skip
    return lines


def status_rows(
    store: ProviderStore, index: IncidentIndex, provider_ids: list[str], now: datetime
) -> list[dict[str, Any]]:
    active: dict[str, list[str]] = {}
    for incident in index.recent_incidents(now):
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
    """The feed's state in its one word (`notifier.feeds.states`), then why."""
    state = feed_state(raw)
    if state is FeedState.UNKNOWN:
        return "unknown (not polled yet)"
    if state is FeedState.OK:
        return "ok"
    failures = int(raw.get("failures") or 0)
    cause = raw.get("cause") or None
    why = f": {cause_words(cause)}" if cause else ""
    return f"{state.value}{why} ({failures} failure{'s' if failures != 1 else ''})"


SHOWN_INCIDENTS = 10


def _incidents(active: list[str]) -> str:
    """The first open incidents, and how many more (a flooded feed may hold thousands)."""
    shown = "; ".join(active[:SHOWN_INCIDENTS]) or "-"
    more = len(active) - SHOWN_INCIDENTS
    return f"{shown}; and {more} more" if more > 0 else shown


def render(rows: list[dict[str, Any]]) -> str:
    header = ("PROVIDER", "HEALTH", "LAST POLL", "OUTCOME", "ACTIVE INCIDENTS")
    table = [
        (
            r["provider"],
            r["health"],
            r["last_poll"],
            r["outcome"],
            _incidents(r["active_incidents"]),
        )
        for r in rows
    ]
    widths = [max([len(h), *(len(row[i]) for row in table)]) for i, h in enumerate(header[:-1])]
    lines = []
    for row in [header, *table]:
        cells = [c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*cells, row[-1]]))
    return "\n".join(lines)

"""`notifier pending`: what is waiting, and until when — the first place to look when an
alert has not arrived yet.

Broker queues, channels and single targets paused at a vendor's request, delivery
retries (with their attempt number), quiet-hours holds, escalation checks, and the
stragglers the reconcile sweep will re-send.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import redis

from notifier.cli._shared import emit, json_flag, redis_url
from notifier.config.settings import get_settings
from notifier.store.conn.connect import connect
from notifier.store.delivery.dueset import DueSet
from notifier.store.delivery.pacing import Pacing
from notifier.store.delivery.retries import RetryQueue
from notifier.store.ops.metrics import DUE_SETS, QUEUES, waiting_sizes
from notifier.text import inert_stream, one_line


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = "what is waiting: queues, paused channels, retries, holds, escalations"
    p = sub.add_parser("pending", help=text, description=text)
    p.add_argument("--limit", type=int, default=10, help="items listed per kind (default 10)")
    json_flag(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    out = inert_stream(out)
    settings = get_settings()
    url = redis_url()
    client = connect(url)
    found = report(
        client, settings.key_prefix, settings.broker_prefix, datetime.now(UTC), args.limit
    )
    if args.json:
        emit(found, out)
    else:
        out.write(render(found))
    return 0


def report(
    client: redis.Redis, prefix: str, broker_prefix: str, now: datetime, limit: int = 10
) -> dict[str, Any]:
    """Everything waiting, as plain data (times as ISO 8601 UTC)."""
    pipe = client.pipeline(transaction=False)
    sizes = waiting_sizes(pipe, prefix, broker_prefix)
    depths, waiting = sizes(pipe.execute())
    counts = dict(zip(DUE_SETS, waiting, strict=True))

    def listed(name: str) -> list[dict[str, Any]]:
        return [
            {"item": m, "due": _iso(when)}
            for m, when in DueSet(client, f"{prefix}:due:{name}").upcoming(limit)
        ]

    return {
        "queues": dict(zip(QUEUES, depths, strict=True)),
        # Whole channels and single targets (a webhook, a Slack channel, an API method).
        "paused": {c: _iso(t) for c, t in Pacing(client, prefix).every_pause(now).items()},
        "retrying": {
            "count": counts["retrying"],
            "next": [
                {"item": key, "attempt": attempt, "due": _iso(when)}
                for key, attempt, when in RetryQueue(client, prefix).upcoming(limit)
            ],
        },
        "held": {"count": counts["held"], "next": listed("held")},
        "escalations": {"count": counts["escalations"], "next": listed("escalations")},
        "unprocessed": counts["unprocessed"],
        "undelivered": counts["undelivered"],
    }


def render(found: dict[str, Any]) -> str:
    queues = " · ".join(f"{q} {n}" for q, n in found["queues"].items())
    lines = [f"queues        {queues}"]
    paused = found["paused"]
    if paused:
        pauses = ", ".join(f"{c} until {t}" for c, t in paused.items())
        lines.append(f"paused        {pauses} (the vendor asked us to slow down)")
    else:
        lines.append("paused        nothing: no vendor asked us to slow down")
    for kind, what in (("retrying", "delivery retries"), ("held", "quiet-hours holds"),
                       ("escalations", "escalation checks")):  # fmt: skip
        section = found[kind]
        lines.append(f"{kind:13} {section['count']} {what}")
        for entry in section["next"]:
            attempt = f"  attempt {entry['attempt']}" if "attempt" in entry else ""
            lines.append(f"  {entry['due']}{attempt}  {one_line(entry['item'])}")
    lines.append(
        f"in flight     {found['unprocessed']} events not yet planned, {found['undelivered']} "
        "alerts not yet finished (the reconcile sweep re-sends overdue ones)"
    )
    return "\n".join(lines) + "\n"


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

"""`notifier quarantine list|retry ID`: the events and alerts given up on after failing
three tries (a parser or renderer bug, see `notifier.pipeline.delivery.quarantine`), and letting one
out again once the fix is deployed.

`list` shows each with when, where it failed and the exception's type (never its
message); `retry ID` (`event:<id>`, `alert:<dedup key>`, or the bare id) forgets its
tries and hands it back to the reconcile sweep, which plans or delivers it within a
minute. Run `retry` after the fix is deployed: the same bug quarantines it again.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from notifier.cli._shared import emit_lines, json_flag, redis_url
from notifier.config.settings import get_settings
from notifier.store.conn.connect import connect
from notifier.store.ops.quarantine import Quarantined, QuarantineStore
from notifier.text import inert_stream, one_line


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = "events and alerts given up on after 3 failed tries; retry one"
    p = sub.add_parser("quarantine", help=text, description=text)
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="what is in quarantine (30 days), newest first")
    listing.add_argument("--limit", type=int, default=50, help="items per kind (default 50)")
    json_flag(listing, "quarantined item")
    again = actions.add_parser("retry", help="let one out: plan or deliver it again")
    again.add_argument("id", help="event:<id>, alert:<dedup key>, or the bare id")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    out = inert_stream(out)
    settings = get_settings()
    url = redis_url()
    client = connect(url)
    store, now = QuarantineStore(client, settings.key_prefix), datetime.now(UTC)
    if args.action == "list":
        found = report(store, now, args.limit)
        if args.json:
            emit_lines(found["items"], out)
        else:
            out.write(render(found, limit=args.limit, where=True) + "\n")
        return 0
    # Only `retry` needs the pipeline's release: `list` (and `notifier status`, which
    # shows the list) start without importing it.
    from notifier.pipeline.delivery import quarantine

    what = quarantine.find(store, args.id)
    if what is None:
        print(f"notifier quarantine: nothing quarantined is called {one_line(args.id)!r} "
              "(see `notifier quarantine list`)", file=sys.stderr)  # fmt: skip
        return 1
    quarantine.release(client, settings.key_prefix, what, now)
    out.write(f"{what.member}: out of quarantine; the reconcile sweep hands it on within a "
              "minute\n")  # fmt: skip
    return 0


def report(store: QuarantineStore, now: datetime, limit: int = 50) -> dict[str, Any]:
    """What `status --json` and `quarantine list --json` print: counts and items."""
    counts = store.counts(now)
    return {
        "events": counts["event"],
        "alerts": counts["alert"],
        "items": [q.to_json() for q in store.listed(now, limit)],
    }


def render(found: dict[str, Any], limit: int = 5, where: bool = False) -> str:
    """`quarantined: 1 event, 0 alerts`, then one line per item (at most `limit`); with
    `where`, a second line names the code that raised."""
    events, alerts = found["events"], found["alerts"]
    head = f"quarantined: {_n(events, 'event')}, {_n(alerts, 'alert')}"
    if not events and not alerts:
        return head + " (none given up on in 30 days)"
    lines = [head + " (given up on after 3 failed tries; `notifier quarantine retry ID`)"]
    for d in found["items"][:limit]:
        q = Quarantined.from_json(d)
        place = one_line(f"{q.provider}/{q.incident_id}")[:60]
        lines.append(f"  {d['at']}  {q.reason:22}  {place}  {one_line(q.member)}")
        if where and q.where:
            lines.append(f"      raised at {one_line(q.where)}")
    more = events + alerts - min(limit, len(found["items"]))
    if more > 0:
        lines.append(f"  … {more} more: `notifier quarantine list`")
    return "\n".join(lines)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"

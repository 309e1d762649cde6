"""`notifier deliveries`: the recent delivery log (newest first)."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from notifier.cli._shared import emit_lines, json_flag, redis_url
from notifier.config.settings import get_settings
from notifier.store.conn.connect import connect
from notifier.store.delivery.deliverylog import DeliveryLog, DeliveryRecord
from notifier.text import inert_stream, one_line


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = "show recent deliveries: outcome, attempts, provider message id, last error"
    p = sub.add_parser("deliveries", help=text, description=text)
    p.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    json_flag(p, "delivery")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    url = redis_url()
    records = DeliveryLog(connect(url), settings.key_prefix).recent(args.limit)
    show(records, as_json=args.json, out=sys.stdout)
    return 0


def show(records: list[DeliveryRecord], as_json: bool, out: TextIO) -> None:
    out = inert_stream(out)
    if as_json:
        emit_lines((rec.to_dict() for rec in records), out)
        return
    if not records:
        out.write("no deliveries yet\n")
        return
    out.write(f"{'UPDATED':20} {'OUTCOME':9} {'CHANNEL':7} {'TRIES':>5}  SUBSCRIBER / ALERT\n")
    for rec in records:
        title = _safe(f"{rec.provider}: {rec.title}")[:70]
        outcome = rec.outcome or "expired"  # its alert's record is gone
        out.write(f"{rec.updated_at or '-':20} {outcome:9} {rec.channel:7} {rec.attempts:>5}  "
                  f"{_safe(rec.subscriber)} / {title}\n")  # fmt: skip
        detail = rec.error or rec.message_id
        if detail:
            out.write(f"{'':44}{_safe(detail)[:120]}\n")


def _safe(text: str) -> str:
    # Feed titles are untrusted: one line (the stream removes escapes).
    return one_line(text)

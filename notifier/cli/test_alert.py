"""`notifier test-alert [--subscriber NAME] [--channel slack|sms|email]`: send one
clearly marked test message ("[notifier test] ...") through each configured route and
report, per subscriber, channel and target, what the vendor answered. Exit 1 if any
send failed. The work is `notifier.pipeline.test_alert`'s; this parses and prints."""

from __future__ import annotations

import argparse
import contextlib
import sys
from datetime import UTC, datetime
from typing import TextIO

from notifier.channels.build import vendor_channels
from notifier.cli._shared import emit_lines, json_flag
from notifier.config.load import ConfigError, load_config
from notifier.config.schema.fields import CHANNELS
from notifier.config.settings import get_settings
from notifier.pipeline.runtime.destinations import Destinations
from notifier.pipeline.test_alert import TestResult, send_test_alerts


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = "send a marked test message through each configured channel, and report the answers"
    p = sub.add_parser("test-alert", help=text, description=text)
    p.add_argument("--subscriber", metavar="NAME", help="only this subscriber")
    p.add_argument("--channel", choices=CHANNELS, help="only this channel")
    json_flag(p, "target")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    settings = get_settings()
    try:
        config = load_config(settings.config_path())
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    destinations = Destinations(config)
    channels = vendor_channels(settings, destinations.presentation(), config.subscribers)
    # With --json, stdout is the results': what the console prints in a vendor's stead goes
    # to stderr.
    printed = contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext()
    try:
        with printed:
            results = send_test_alerts(
                config, channels, datetime.now(UTC), args.subscriber, args.channel
            )
    except LookupError as exc:
        print(f"notifier test-alert: {exc.args[0]}", file=sys.stderr)
        return 2
    failed = sum(r.failed for r in results)
    if args.json:
        emit_lines((as_dict(r) for r in results), out)
        return 1 if failed else 0
    out.write(render(results) + "\n")
    if failed:
        out.write(f"{failed} of {len(results)} failed\n")
    return 1 if failed else 0


def as_dict(r: TestResult) -> dict[str, object]:
    """One target's result: `outcome` is sent, printed, failed or already sent; `detail`
    the message id, or the vendor's reason in its own words."""
    return {"subscriber": r.subscriber, "channel": r.channel, "target": r.target,
            "outcome": r.outcome, "detail": r.detail, "permanent": r.permanent}  # fmt: skip


def render(results: list[TestResult]) -> str:
    rows = [(r.subscriber, r.channel, r.target, r.describe()) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join(
        "  ".join([*(c.ljust(w) for c, w in zip(row[:3], widths, strict=True)), row[3]])
        for row in rows
    )

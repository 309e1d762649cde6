"""`notifier config check [FILE]`: validate a subscription file.

Exit 0 with a one-paragraph summary when valid; exit 1 with one
`file:line: path: message` line per problem (on stderr) when not.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from notifier.config.load import ConfigError, load_config
from notifier.config.schema import Config


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("config", help="Work with the subscription file.")
    sub = parser.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = sub.add_parser("check", help="Validate a subscription file.")
    check.add_argument(
        "file",
        nargs="?",
        type=Path,
        help="Subscription file (default: NOTIFIER_CONFIG, else config/subscriptions.yaml,"
        " else the example).",
    )
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    path: Path | None = args.file
    if path is None:
        from notifier.config.settings import get_settings

        path = get_settings().config_path()
    try:
        config = load_config(path)
    except ConfigError as exc:
        for line in exc.errors:
            print(line, file=sys.stderr)
        count = len(exc.errors)
        print(f"{path}: {count} problem{'s' if count != 1 else ''}", file=sys.stderr)
        return 1
    print(summary(path, config))
    return 0


def summary(path: Path, config: Config) -> str:
    providers = config.resolved_providers()
    lines = [f"{path}: OK"]
    lines.append(
        f"  providers ({len(providers)}): "
        + ", ".join(f"{p.id} [{p.format}, every {p.poll_interval}s]" for p in providers)
    )
    if config.services:
        lines.append(f"  services ({len(config.services)}): {', '.join(config.services)}")
    if config.oncall.rotations:
        lines.append(f"  rotations: {', '.join(config.oncall.rotations)}")
    for s in config.subscribers:
        lines.append(f"  subscriber {s.name}: {', '.join(s.channel_names())}")
    return "\n".join(lines)

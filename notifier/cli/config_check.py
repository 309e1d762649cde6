"""`notifier config check [FILE]`: validate a subscription file.

Exit 1 with one `file:line: path: message` line per problem (on stderr, in line
order) when it is invalid. Otherwise exit 0 with a one-paragraph summary, after a
`file:line: warning: path: message` line (on stderr) for each thing the file would
do silently wrong with the current settings (see `notifier.config.advice`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import redis

from notifier.channels.reach import ChannelReach
from notifier.cli._shared import emit, json_flag
from notifier.config.catalog import Catalog
from notifier.config.load import ConfigError, ConfigReport, check_config, load_config
from notifier.config.schema import Config
from notifier.config.settings import get_settings
from notifier.store.conn.connect import connect
from notifier.store.conn.url import resolve_redis_url
from notifier.store.feeds.discovered import DiscoveredStore

# The catalog to check against; None is the built-in one (tests set a small one).
CATALOG: Catalog | None = None


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
    json_flag(check)
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    settings = get_settings()
    path: Path = args.file if args.file is not None else settings.config_path()
    reach = ChannelReach(settings)
    report = check_config(path, CATALOG, reach, seen_components=_seen_components(path))
    if args.json:
        emit(as_dict(path, report), sys.stdout)
        return 0 if report.config is not None else 1
    if report.config is None:
        for line in report.errors:
            print(line, file=sys.stderr)
        count = len(report.errors)
        print(f"{path}: {count} problem{'s' if count != 1 else ''}", file=sys.stderr)
        return 1
    for line in report.warnings:
        print(_as_warning(line), file=sys.stderr)
    print(summary(path, report.config, len(report.warnings)))
    return 0


def as_dict(path: Path, report: ConfigReport) -> dict[str, Any]:
    """The check as one object: `ok`, the `errors` or `warnings` as the text shows them
    (`file:line: path: message`), and what a good file watches and tells."""
    out: dict[str, Any] = {"file": str(path), "ok": report.config is not None,
                           "errors": report.errors, "warnings": report.warnings}  # fmt: skip
    if report.config is not None:
        out["providers"] = [{"id": p.id, "format": p.format, "poll_interval_s": p.poll_interval}
                            for p in report.config.resolved_providers()]  # fmt: skip
        out["subscribers"] = {s.name: s.channel_names() for s in report.config.subscribers}
    return out


def _as_warning(line: str) -> str:
    """`file:line: warning: …`, the way compilers mark a warning."""
    where, sep, rest = line.partition(": ")
    return f"{where}: warning: {rest}" if sep else f"warning: {line}"


def summary(path: Path, config: Config, warnings: int = 0) -> str:
    providers = config.resolved_providers()
    noted = f" ({warnings} warning{'s' if warnings != 1 else ''} above)" if warnings else ""
    lines = [f"{path}: OK{noted}"]
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


def _seen_components(path: Path) -> dict[str, set[str]]:
    """Component names each filtered provider's feed has listed in the service's polls,
    from Redis when it answers (a file is checked before any service runs, too)."""
    settings = get_settings()
    url = resolve_redis_url(settings.redis_url, settings.data_dir)
    try:
        config = load_config(path, CATALOG)
    except (ConfigError, OSError):
        return {}
    wanted = [p.id for p in config.providers if p.components]
    if url is None or not wanted:
        return {}
    try:
        store = DiscoveredStore(connect(url, socket_timeout=2), settings.key_prefix)
        return {pid: store.components(pid) for pid in wanted}
    except redis.RedisError:
        return {}

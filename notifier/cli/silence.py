"""`notifier silence add|list|expire`: mute the alerts a team already knows about.

  notifier silence add provider=openai [component=ChatGPT] [subscriber=support-bot-team] \\
      --for 2h --reason "known, tracked in INC-42" [--any-impact] [--by NAME]
  notifier silence list [--json]
  notifier silence expire ID

A running service sees a new silence at once: delivery reads the silences with the
rest of its inputs (`notifier.pipeline.delivery.attempt`). What a silence never mutes is in
`notifier.route.silencing`.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import redis

from notifier.cli._shared import emit, emit_lines, json_flag, redis_url
from notifier.config.load import ConfigError, load_config
from notifier.config.settings import get_settings
from notifier.models import iso
from notifier.store.conn.connect import connect
from notifier.store.feeds.incidents import IncidentIndex
from notifier.store.ops.silences import (
    Silence,
    SilenceStore,
    impact_now,
    make,
    parse_duration,
    unknown_name,
)
from notifier.text import one_line

MATCHERS = ("provider", "component", "subscriber")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = "mute matching alerts for a while (add, list, expire)"
    parser = sub.add_parser("silence", help=text, description=text)
    actions = parser.add_subparsers(dest="silence_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a silence", description=__doc__,
                             formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    add.add_argument("matchers", nargs="+", metavar="KEY=VALUE",
                     help="provider=ID (required), component=NAME, subscriber=NAME")  # fmt: skip
    add.add_argument("--for", dest="lasting", required=True, help="how long: 2h, 90m, 1d12h")
    add.add_argument("--reason", required=True, help="why, for whoever wonders later")
    add.add_argument("--any-impact", action="store_true",
                     help="mute even if the incident grows past its impact now")  # fmt: skip
    add.add_argument("--by", default=None, help="who adds it (default: your user name)")
    json_flag(add)
    add.set_defaults(func=run_add)
    listing = actions.add_parser("list", help="list active and recently ended silences")
    json_flag(listing, "silence")
    listing.set_defaults(func=run_list)
    expire = actions.add_parser("expire", help="end a silence now")
    expire.add_argument("id", help="the silence id `silence list` shows")
    expire.add_argument("--by", default=None, help="who ends it (default: your user name)")
    json_flag(expire)
    expire.set_defaults(func=run_expire)


def parse_matchers(items: list[str]) -> dict[str, str]:
    """`provider=openai component=ChatGPT` → dict; ValueError naming what is wrong."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or not value:
            raise ValueError(f"{item!r} is not KEY=VALUE")
        if key not in MATCHERS:
            raise ValueError(f"unknown matcher {key!r}; use {', '.join(MATCHERS)}")
        if key in out:
            raise ValueError(f"{key} given twice")
        out[key] = value
    if "provider" not in out:
        raise ValueError("a silence needs provider=ID")
    return out


def _client() -> tuple[redis.Redis, str]:
    settings = get_settings()
    return connect(redis_url()), settings.key_prefix


def _who(given: str | None) -> str:
    if given:
        return one_line(given)[:100]
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def run_add(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    try:
        matchers = parse_matchers(args.matchers)
        lasting = parse_duration(args.lasting)
    except ValueError as exc:
        print(f"notifier silence add: {exc}", file=sys.stderr)
        return 1
    problem = _unknown_names(matchers)
    if problem:
        print(f"notifier silence add: {problem}", file=sys.stderr)
        return 1
    client, prefix = _client()
    now = datetime.now(UTC)
    incidents = IncidentIndex(client, prefix).recent_incidents(now)
    silence = make(
        matchers["provider"], lasting=lasting, reason=one_line(args.reason)[:500],
        by=_who(args.by), now=now, component=matchers.get("component"),
        subscriber=matchers.get("subscriber"), any_impact=args.any_impact,
        open_incidents=incidents,
    )  # fmt: skip
    SilenceStore(client, prefix).add(silence)
    if args.json:
        emit(as_dict(silence, now), out)
    else:
        out.write(f"{silence.id}\n")
    print(f"silenced {describe(silence)} until {iso(silence.ends_at)}", file=sys.stderr)
    if silence.max_impact is not None and impact_now(incidents, silence.provider,
                                                     silence.component) is None:  # fmt: skip
        print("  no open incident matches: it mutes up to minor impact; add --any-impact "
              "to mute whatever comes", file=sys.stderr)  # fmt: skip
    return 0


def _unknown_names(matchers: dict[str, str]) -> str | None:
    """A provider or subscriber the subscription file does not know: likely a typo that
    would silence nothing. None when the names are known or the file cannot be read."""
    try:
        config = load_config(get_settings().config_path())
    except ConfigError:
        return None  # the service is not running on it either; do not block a silence
    return unknown_name(config, matchers.get("provider"), matchers.get("subscriber"))


def run_list(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    client, prefix = _client()
    now = datetime.now(UTC)
    silences = SilenceStore(client, prefix).all(now)
    if args.json:
        emit_lines((as_dict(s, now) for s in silences), out)
        return 0
    if not silences:
        out.write("no silences\n")
        return 0
    out.write(f"{'ID':8}  {'STATE':7}  {'UNTIL':20}  {'BY':12}  MATCHERS · REASON\n")
    for s in silences:
        state = "active" if s.active(now) else ("pending" if s.starts_at > now else "ended")
        by = one_line(s.created_by)[:12]
        out.write(f"{s.id:8}  {state:7}  {iso(s.ends_at) or '':20}  {by:12}"
                  f"  {describe(s)} · {one_line(s.reason)}\n")  # fmt: skip
    return 0


def run_expire(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    client, prefix = _client()
    now = datetime.now(UTC)
    ended = SilenceStore(client, prefix).expire(args.id, now, _who(args.by))
    if ended is None:
        print(f"notifier silence expire: no silence {args.id!r}", file=sys.stderr)
        return 1
    if args.json:
        emit(as_dict(ended, now), out)
    else:
        out.write(f"expired {ended.id}: {describe(ended)}\n")
    return 0


def describe(s: Silence) -> str:
    """`provider=openai component=ChatGPT (up to major)`."""
    ceiling = "any impact" if s.max_impact is None else f"up to {s.max_impact.value}"
    return f"{s.matchers()} ({ceiling})"


def as_dict(s: Silence, now: datetime) -> dict[str, Any]:
    d: dict[str, Any] = json.loads(s.to_json())
    d["active"] = s.active(now)
    return d

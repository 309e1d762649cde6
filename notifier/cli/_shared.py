"""What every command shares, so each says it the same way (see docs/commands.md):

- `NoRedisError`: raised where a command needs Redis and none is configured or running;
  `notifier.cli.main` prints it as the one "no Redis" line and exits 2.
- `emit` / `emit_lines`: the `--json` shape rule. One thing is one JSON object; a list is
  JSON Lines, one object per line. Either way each object is on a line of its own, so
  `| head -1` and `| jq` work alike.

A module whose name starts with `_` is not a command: `build_parser` skips it.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable
from typing import Any, TextIO

# The advice of every "no Redis" line, whichever way it came about.
REDIS_ADVICE = "Start the service with `notifier run`, or set NOTIFIER_REDIS_URL"


class NoRedisError(Exception):
    """No Redis is configured and no private one of ours is running."""


def redis_url() -> str:
    """The Redis this command talks to (see `resolve_redis_url`), or NoRedisError."""
    # Imported here, not above: `notifier --help` and `notifier init` need this module's
    # NoRedisError and JSON helpers, but neither the settings nor Redis.
    from notifier.config.settings import get_settings
    from notifier.store.conn.url import resolve_redis_url

    settings = get_settings()
    url = resolve_redis_url(settings.redis_url, settings.data_dir)
    if url is None:
        raise NoRedisError(f"no Redis: NOTIFIER_REDIS_URL is unset and no service runs "
                           f"under {settings.data_dir}")  # fmt: skip
    return url


def emit(thing: Any, out: TextIO) -> None:
    """One thing, as one JSON object on one line."""
    out.write(json.dumps(thing, ensure_ascii=False, default=str) + "\n")


def emit_lines(things: Iterable[Any], out: TextIO) -> None:
    """A list, as JSON Lines: one object per line, nothing around them."""
    for thing in things:
        emit(thing, out)


def json_flag(parser: argparse.ArgumentParser, each: str | None = None) -> None:
    """`--json`, with the one help text: `each` names what a line is for a list
    (JSON Lines); None means the command prints one thing (one object)."""
    what = f"JSON Lines: one object per {each}" if each else "one JSON object"
    parser.add_argument("--json", action="store_true", help=f"print {what}")

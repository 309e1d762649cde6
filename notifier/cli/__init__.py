"""The `notifier` command: one module per subcommand in this package, each exposing
`register(subparsers)` (it adds a parser and sets `func=handler`; the handler takes the
parsed args and returns the exit code). This module discovers and dispatches, and is
the one place where a Redis that cannot be reached becomes one line on stderr and
exit status 2 (UNREACHABLE) instead of a traceback, whichever command met it, and where
a bad NOTIFIER_* setting becomes one line per setting and exit status 1."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from urllib.parse import parse_qs, urlparse

import redis
from pydantic import ValidationError

from notifier.config.settings import get_settings
from notifier.store.conn.server import RedisUnavailableError
from notifier.store.conn.url import private_socket, redacted
from notifier.text import one_line

UNREACHABLE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="notifier", description="Incident notifications from your vendors' status pages."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        print(f"notifier {args.command}: {redis_failure(exc)}", file=sys.stderr)
        return UNREACHABLE
    except ValidationError as exc:
        if exc.title != "Settings":
            raise
        for error in exc.errors(include_input=False):  # never the value: it may be a secret
            name = "NOTIFIER_" + str(error["loc"][0]).upper() if error["loc"] else "a setting"
            print(f"notifier {args.command}: {name}: {error['msg'].removeprefix('Value error, ')}",
                  file=sys.stderr)  # fmt: skip
        return 1
    except RedisUnavailableError as exc:  # `notifier run` could not start its private Redis
        print(f"notifier {args.command}: cannot start a private Redis: {one_line(str(exc))}. "
              "Or set NOTIFIER_REDIS_URL to a Redis of your own", file=sys.stderr)  # fmt: skip
        return UNREACHABLE
    return code


def redis_failure(exc: redis.RedisError) -> str:
    """One line: which Redis (password hidden), what went wrong, and what to do about it."""
    settings = get_settings()
    # The Redis a command talks to is the one resolve_redis_url() picked: the configured
    # URL, else our private server's socket (which answered a moment ago).
    configured = settings.redis_url
    url = configured or f"unix://{private_socket(settings.data_dir)}"
    reason = one_line(str(exc)).rstrip(".")
    if configured:
        # redis-py's messages name the host, never the password; hide it anyway.
        password = _password(configured)
        if password:
            reason = reason.replace(password, "***")
    where = redacted(url)
    if isinstance(exc, redis.AuthenticationError):
        return f"Redis at {where} refused us ({reason}). Check the password in NOTIFIER_REDIS_URL"
    if configured:
        advice = (
            "Is it running? Fix NOTIFIER_REDIS_URL, or unset it and start the service with "
            "`notifier run`, which brings its own Redis"
        )
    else:
        advice = "Start the service with `notifier run`, or set NOTIFIER_REDIS_URL"
    return f"cannot reach Redis at {where} ({reason}). {advice}"


def _password(url: str) -> str | None:
    parsed = urlparse(url)
    in_query = parse_qs(parsed.query).get("password")
    return parsed.password or (in_query[0] if in_query else None)


if __name__ == "__main__":
    sys.exit(main())

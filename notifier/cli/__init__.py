"""The `notifier` command: one module per subcommand in this package, each exposing
`register(subparsers)` (it adds a parser and sets `func=handler`; the handler takes the
parsed args and returns the exit code). This module discovers and dispatches, and is
the one place where a Redis that cannot be reached becomes one line on stderr and
exit status 2 (UNREACHABLE) instead of a traceback, whichever command met it; where a bad
NOTIFIER_* setting becomes one line per setting and exit status 1; and where a reader that
closed the pipe (`notifier deliveries --json | head -1`) ends the command quietly with
status 0. The conventions are docs/commands.md's."""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import select
import sys
from collections.abc import Sequence
from urllib.parse import parse_qs, urlparse

import redis
from pydantic import ValidationError

from notifier import __version__
from notifier.cli._shared import REDIS_ADVICE, NoRedisError
from notifier.config.settings import get_settings
from notifier.store.conn.server import RedisUnavailableError
from notifier.store.conn.url import private_socket, redacted
from notifier.text import one_line

UNREACHABLE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="notifier", description="Incident notifications from your vendors' status pages."
    )
    parser.add_argument("--version", action="version", version=f"notifier {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue  # shared helpers, not a command
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
    except BrokenPipeError:
        if not _stdout_gone():
            raise  # a broken pipe of some other connection is a failure like any other
        return _reader_left()
    except NoRedisError as exc:
        print(f"notifier {args.command}: {exc}. {REDIS_ADVICE}", file=sys.stderr)
        return UNREACHABLE
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


def _stdout_gone() -> bool:
    """Whether the reader of our stdout has closed it (a pipe whose read end is gone
    reports an error condition on its write end)."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):
        return False
    watch = select.poll()
    watch.register(fd, select.POLLOUT)
    return any(events & select.POLLERR for _, events in watch.poll(0))


def _reader_left() -> int:
    """The reader closed our stdout (`| head -1`): what it wanted it has, so this is no
    failure. Point stdout at /dev/null so the interpreter's last flush cannot fail too."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 0


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
    return f"cannot reach Redis at {where} ({reason}). {REDIS_ADVICE}"


def _password(url: str) -> str | None:
    parsed = urlparse(url)
    in_query = parse_qs(parsed.query).get("password")
    return parsed.password or (in_query[0] if in_query else None)


if __name__ == "__main__":
    sys.exit(main())

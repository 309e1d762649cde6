"""The `notifier` command: one module per subcommand in this package, each exposing
`register(subparsers)` (it adds a parser and sets `func=handler`; the handler takes the
parsed args and returns the exit code). `COMMANDS` names each command's module and
one-line help, so that a run imports only the module of the command it runs: most of a
command's start is import time, and tests start commands as processes by the dozen.

This module dispatches, and is the one place where a Redis that cannot be reached
becomes one line on stderr and exit status 2 (UNREACHABLE) instead of a traceback,
whichever command met it; where a bad NOTIFIER_* setting becomes one line per setting
and exit status 1; and where a reader that closed the pipe (`notifier deliveries --json
| head -1`) ends the command quietly with status 0. The conventions are
docs/commands.md's."""

from __future__ import annotations

import argparse
import importlib
import os
import select
import sys
from collections.abc import Collection, Sequence
from typing import Any, NamedTuple

from notifier import __version__
from notifier.cli._shared import REDIS_ADVICE, NoRedisError
from notifier.text import one_line

UNREACHABLE = 2


class Command(NamedTuple):
    module: str  # under notifier.cli; its register() adds the command's parser
    help: str  # the line `notifier --help` shows; the module's parser says the same


# In the order `notifier --help` lists them. tests/cli/test_lazy_commands.py checks that
# this table and the modules' own parsers agree, and that no module is missing.
COMMANDS: dict[str, Command] = {
    "config": Command("config_check", "Work with the subscription file."),
    "db": Command("db", "the history database"),
    "deliveries": Command(
        "deliveries", "show recent deliveries: outcome, attempts, provider message id, last error"
    ),
    "deps": Command("deps", "dependencies learned from the incident history"),
    "feed": Command("feed", "Work with status-feed documents."),
    "healthcheck": Command("healthcheck", "exit 0 if Redis answers (container healthcheck)"),
    "history": Command("history", "the history database: import past incidents"),
    "init": Command(
        "init", "write a commented starter subscription file (default config/subscriptions.yaml)"
    ),
    "pending": Command(
        "pending", "what is waiting: queues, paused channels, retries, holds, escalations"
    ),
    "providers": Command(
        "providers", "the status-page catalog: list, search, discover, check, components"
    ),
    "quarantine": Command(
        "quarantine", "events and alerts given up on after 3 failed tries; retry one"
    ),
    "replay": Command(
        "replay",
        "Replay saved feed snapshots offline and print the change events as JSON Lines.",
    ),
    "report": Command("report", "each vendor's record for a month or quarter"),
    "run": Command(
        "run", "run the whole service: worker + beat (+ a private Redis when none is set)"
    ),
    "worker": Command("run", "run a Celery worker (production)"),
    "beat": Command("run", "run the Celery beat scheduler (production; one active at a time)"),
    "silence": Command("silence", "mute matching alerts for a while (add, list, expire)"),
    "status": Command("status", "feed health, last poll and active incidents per provider"),
    "test-alert": Command(
        "test_alert",
        "send a marked test message through each configured channel, and report the answers",
    ),
    "web": Command(
        "web", "serve the console, the webhooks (Twilio, Slack, Statuspage), /healthz and /metrics"
    ),
}


def build_parser(real: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command. With `real`, only the commands named there (and the
    others their modules add) get their parser, their modules imported; every other
    command is a stand-in with the same name and help, which is all that `notifier --help`
    and a usage error show."""
    parser = argparse.ArgumentParser(
        prog="notifier", description="Incident notifications from your vendors' status pages."
    )
    parser.add_argument("--version", action="version", version=f"notifier {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = {c.module for name, c in COMMANDS.items() if real is None or name in real}
    registered: set[str] = set()
    for name, command in COMMANDS.items():
        if command.module not in chosen:
            sub.add_parser(name, help=command.help, add_help=False)
        elif command.module not in registered:  # one module may add several commands
            registered.add(command.module)
            importlib.import_module(f"{__name__}.{command.module}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # The command is the first word (the only other words before it, -h and --version,
    # end the run before any command is parsed).
    args = build_parser(real=argv[:1]).parse_args(argv)
    try:
        code: int = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
    except BrokenPipeError:
        if not _stdout_gone():
            raise  # a broken pipe of some other connection is a failure like any other
        return _reader_left()
    except Exception as exc:
        failed = _one_line(args.command, exc)
        if failed is None:
            raise
        return failed
    return code


def _loaded(module: str, name: str) -> Any:
    """The exception class `module.name` if that module is loaded, else () which no
    exception matches: a module never imported raised nothing, and importing it only to
    check would cost every command its import time."""
    found = sys.modules.get(module)
    return getattr(found, name) if found is not None else ()


def _one_line(command: str, exc: Exception) -> int | None:
    """Print a failure the conventions make one line, and return its exit status; None
    for any other failure (it stays a traceback)."""
    if isinstance(exc, NoRedisError):
        print(f"notifier {command}: {exc}. {REDIS_ADVICE}", file=sys.stderr)
        return UNREACHABLE
    if isinstance(exc, (_loaded("redis", "ConnectionError"), _loaded("redis", "TimeoutError"))):
        from notifier.cli._unreachable import redis_failure  # only now: it loads the settings

        print(f"notifier {command}: {redis_failure(exc)}", file=sys.stderr)
        return UNREACHABLE
    if isinstance(exc, _loaded("pydantic", "ValidationError")) and exc.title == "Settings":
        for error in exc.errors(include_input=False):  # never the value: it may be a secret
            name = "NOTIFIER_" + str(error["loc"][0]).upper() if error["loc"] else "a setting"
            print(f"notifier {command}: {name}: {error['msg'].removeprefix('Value error, ')}",
                  file=sys.stderr)  # fmt: skip
        return 1
    if isinstance(exc, _loaded("notifier.store.conn.server", "RedisUnavailableError")):
        # `notifier run` could not start its private Redis
        print(f"notifier {command}: cannot start a private Redis: {one_line(str(exc))}. "
              "Or set NOTIFIER_REDIS_URL to a Redis of your own", file=sys.stderr)  # fmt: skip
        return UNREACHABLE
    return None


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


if __name__ == "__main__":
    sys.exit(main())

"""A process that forks `notifier` commands with their imports already done (made here).

Tests run a short `notifier` command (`status`, `config check`, `pending --json`) as a
process by the hundred, and most of each one's start is import time: pydantic, redis,
the channel clients, the command's own modules, about 0.3 to 0.8 CPU-s. This process
imports them once and forks a child per command. The child is a real process running the
real command: its own working directory, environment (replaced whole), stdin, stdout and
stderr, exit status and signals; only the imports are inherited. After each child it
imports what that child had to import, so the next command of the kind starts warm.

The protocol, one JSON object per line on stdin and stdout: a request
`{"argv", "cwd", "env", "stdin", "stdout", "stderr"}` (the last three are file paths)
is answered with `{"pid": N}` as the child starts, then `{"status": S, "cpu": C}` when it
ends (S is the exit status, or minus the signal that ended it, as `subprocess` reports it;
C the CPU seconds the child and the processes it waited for spent).
A request the zygote cannot fork safely for is answered `{"refused": reason}`.

`tests.support.cli.run_notifier` is the client.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import sys
import threading
import traceback
from typing import Any

# What every command imports first; the rest is learned from the children.
WARM = ("notifier.cli", "notifier.cli._shared", "notifier.cli._unreachable")


def _child(request: dict[str, Any]) -> None:
    """Become the command: never returns."""
    code = 1
    try:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for fd, path, flags in (
            (0, request["stdin"], os.O_RDONLY),
            (1, request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
            (2, request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
        ):
            opened = os.open(path, flags, 0o600)
            os.dup2(opened, fd)
            os.close(opened)
        sys.argv = ["notifier", *request["argv"]]
        from notifier.cli import main

        code = main(request["argv"])
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if not isinstance(exit_.code, int) and exit_.code is not None:
            print(exit_.code, file=sys.stderr)
    except BaseException:  # as the interpreter would: the traceback, then status 1
        traceback.print_exc()
        code = 1
    finally:
        # What the interpreter does at exit: wait for the threads, run atexit, flush.
        try:
            threading._shutdown()  # type: ignore[attr-defined]
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _learned(before: set[str], path: str) -> None:
    """Import in this process what the last child imported (listed by it in `path`)."""
    try:
        with open(path, encoding="utf-8") as listed:
            # Never a `__main__`: importing one runs a program.
            names = [n for n in listed.read().split()
                     if n not in before and not n.endswith("__main__")]  # fmt: skip
    except OSError:
        return
    for name in names:
        if name in sys.modules:
            continue
        # A module that imports only in its own context stays for the child to import.
        with contextlib.suppress(BaseException):
            importlib.import_module(name)


def serve() -> None:
    for name in WARM:
        importlib.import_module(name)
    out = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        if threading.active_count() > 1:
            # A fork copies only the forking thread: a lock another thread held stays held.
            print(json.dumps({"refused": "the zygote has threads"}), file=out, flush=True)
            continue
        listing = request["stdout"] + ".modules"
        known = set(sys.modules)
        out.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            # The modules the command imports are listed at exit, for the next one.
            atexit.register(_list_modules, listing)
            _child(request)
        print(json.dumps({"pid": pid}), file=out, flush=True)
        _, status, usage = os.wait4(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        cpu = usage.ru_utime + usage.ru_stime  # the suite's CPU budget counts it
        print(json.dumps({"status": code, "cpu": cpu}), file=out, flush=True)
        _learned(known, listing)


def _list_modules(path: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as listing:
            listing.write("\n".join(n for n in sys.modules if not n.startswith("__")))
    except OSError:
        pass


if __name__ == "__main__":
    serve()

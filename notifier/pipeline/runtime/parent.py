"""Stopping with the parent that started us, when it cannot tell us itself: `make run`.

`kill -INT` of a `make run` process reaches make alone. GNU make then waits for its
recipe to end, assuming the terminal sent the same signal to the whole process group;
here nobody did, so make would wait for ever and `notifier run` would never hear of it.
(SIGTERM is different: make passes it on to its recipe.) So `notifier run
--stop-with-parent`, which the Makefile uses, watches its parent:

- the parent is gone (we were re-parented): stop;
- the parent is inside its handler of a stop signal (SIGHUP, SIGINT, SIGQUIT or SIGTERM):
  Linux shows the signal in the parent's blocked set (`SigBlk` of /proc/PID/status) for
  as long as the handler runs, and make's runs until its recipe has ended. Two readings
  in a row must say so, as make also blocks these signals for a moment while it starts a
  recipe.

Where /proc cannot be read (not Linux), only the first rule applies.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM)
CHECK_EVERY_S = 0.25


def blocked(status: str) -> set[int]:
    """The signal numbers of a /proc/PID/status text's `SigBlk` mask."""
    for line in status.splitlines():
        if line.startswith("SigBlk:"):
            mask = int(line.split(":", 1)[1].strip(), 16)
            return {n for n in range(1, 65) if mask & (1 << (n - 1))}
    return set()


def handling_a_stop_signal(pid: int) -> bool:
    """Whether process `pid` is inside its handler of a stop signal (Linux; else False)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return bool(blocked(status) & {int(s) for s in STOP_SIGNALS})


def watch(stop: Callable[[], None], done: threading.Event) -> threading.Thread:
    """Call `stop` once the parent of this process is gone or told to stop; end when
    `done` is set."""
    parent = os.getppid()

    def run() -> None:
        told = 0
        while not done.wait(CHECK_EVERY_S):
            if os.getppid() != parent:
                log.warning("the process that started us (pid %d) is gone: stopping", parent)
                stop()
                return
            told = told + 1 if handling_a_stop_signal(parent) else 0
            if told >= 2:
                log.warning("the process that started us (pid %d) was told to stop: "
                            "stopping", parent)  # fmt: skip
                stop()
                return

    thread = threading.Thread(target=run, name="parent-watch", daemon=True)
    thread.start()
    return thread

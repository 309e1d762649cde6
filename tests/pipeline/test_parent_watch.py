"""`notifier run --stop-with-parent`: the parent's blocked signals read from /proc, and the
watch that stops the service when its parent is inside a stop signal's handler (as GNU
make is after SIGINT) or gone. A real parent process: a Python child that blocks SIGINT
the way a handler does, and the watch running in its child."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading

from notifier.pipeline.runtime.parent import blocked, handling_a_stop_signal, watch

STATUS = "Name:\tmake\nSigPnd:\t0000000000000000\nSigBlk:\t0000000000010002\nSigIgn:\t0\n"


def test_the_blocked_mask_reads_as_signal_numbers() -> None:
    assert blocked(STATUS) == {signal.SIGINT, signal.SIGCHLD}
    assert blocked("Name:\tx\n") == set()


def test_a_process_that_blocks_nothing_is_not_stopping() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert not handling_a_stop_signal(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    assert not handling_a_stop_signal(proc.pid)  # gone: nothing to read


PARENT = textwrap.dedent(
    """
    import signal, subprocess, sys
    child = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdout=subprocess.PIPE,
                             text=True)
    print(child.stdout.readline().strip(), flush=True)  # the child's watch has started
    # As make does inside its SIGINT handler, waiting for its recipe: SIGINT blocked.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    print(child.stdout.readline().strip(), flush=True)
    child.wait()
    """
)
CHILD = textwrap.dedent(
    """
    import threading
    from notifier.pipeline.runtime.parent import watch
    stopped, done = threading.Event(), threading.Event()
    watch(stopped.set, done)
    print("watching", flush=True)
    print("stopped" if stopped.wait(30) else "still running", flush=True)
    """
)


def test_the_watch_stops_when_the_parent_handles_a_stop_signal() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PARENT, CHILD], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.split() == ["watching", "stopped"], done.stderr


def test_the_watch_ends_quietly_when_told_to() -> None:
    stopped, finished = threading.Event(), threading.Event()
    thread = watch(stopped.set, finished)
    finished.set()
    thread.join(timeout=5)
    assert not thread.is_alive() and not stopped.is_set()

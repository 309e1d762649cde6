"""The supervisor over real child processes (tiny Python programs made here)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from notifier.pipeline.runtime.supervise import (
    GAVE_UP,
    REDIS_GONE,
    Child,
    Supervisor,
    backoff,
    how_it_ended,
)


def program(code: str, counter: Path | None = None) -> Child:
    """A child running `code`; each start appends a line to `counter` when given."""

    def launch() -> subprocess.Popen[bytes]:
        if counter is not None:
            with counter.open("a") as f:
                f.write("start\n")
        return subprocess.Popen([sys.executable, "-c", code])

    return Child("crashy", launch)


def test_how_a_child_ended_is_said_in_words() -> None:
    assert how_it_ended(-9) == "killed by SIGKILL"
    assert how_it_ended(-15) == "killed by SIGTERM"
    assert how_it_ended(3) == "exited with status 3"
    assert how_it_ended(0) == "exited with status 0"


@pytest.mark.parametrize(("deaths", "delay"), [(1, 0.0), (2, 0.5), (3, 1.0), (4, 2.0), (9, 30.0)])
def test_restarts_come_at_once_then_back_off(deaths: int, delay: float) -> None:
    assert backoff(deaths) == delay


def test_a_child_that_keeps_dying_makes_it_give_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    starts = tmp_path / "starts"
    crashy = program("import sys; sys.exit(3)", starts)
    steady = program("import time; time.sleep(60)")
    steady.name = "steady"
    supervisor = Supervisor([steady, crashy], limit=3, window=60, poll_s=0.02)
    began = time.monotonic()
    with caplog.at_level(logging.ERROR):
        assert supervisor.run() == GAVE_UP
    assert time.monotonic() - began < 5  # restarts at 0 s and 0.5 s, then gives up
    assert starts.read_text().count("start") == 3
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert sum("crashy (pid" in m and "died: exited with status 3" in m for m in messages) == 3
    assert any("crashy died 3 times in 60 s: giving up" in m for m in messages)
    assert steady.proc is None  # everything it started was stopped


def test_a_killed_child_is_logged_with_its_signal_and_started_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    starts = tmp_path / "starts"
    child = program("import time; time.sleep(60)", starts)
    supervisor = Supervisor([child], limit=5, window=60, poll_s=0.02)
    runner = threading.Thread(target=supervisor.run)
    with caplog.at_level(logging.ERROR):
        runner.start()
        try:
            deadline = time.monotonic() + 5
            while child.pid is None and time.monotonic() < deadline:
                time.sleep(0.01)
            first = child.pid
            assert first is not None
            os.kill(first, signal.SIGKILL)
            while (child.pid in (None, first)) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert child.pid not in (None, first)  # a new process, at once
        finally:
            supervisor.stop()
            runner.join(timeout=10)
    assert f"crashy (pid {first}) died: killed by SIGKILL" in caplog.text
    assert starts.read_text().count("start") == 2


def test_with_a_limit_of_one_the_first_death_ends_it() -> None:
    supervisor = Supervisor([program("import sys; sys.exit(0)")], limit=1, poll_s=0.02)
    assert supervisor.run() == GAVE_UP  # exited by itself: it no longer does its job


def test_a_redis_gone_longer_than_the_grace_ends_it(caplog: pytest.LogCaptureFixture) -> None:
    child = program("import time; time.sleep(60)")
    supervisor = Supervisor([child], redis_answers=lambda: False, redis_grace=1.0, poll_s=0.05)
    began = time.monotonic()
    with caplog.at_level(logging.ERROR):
        assert supervisor.run() == REDIS_GONE
    assert 1.0 <= time.monotonic() - began < 4
    assert "Redis has not answered for" in caplog.text
    assert child.proc is None


# A child that, told to stop, says so in `log`, then waits (up to 10 s) for `other` to be
# told too before it ends: it "saw" the other only when both were told at once.
STOPPING = """
import os, signal, sys, time
log, me, other = sys.argv[1:]
def say(line):
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.write(fd, (line + "\\n").encode()); os.close(fd)
def on_term(*_):
    say("term " + me)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if "term " + other in open(log).read().split("\\n"):
            say("saw " + other)
            break
        time.sleep(0.02)
    say("exit " + me)
    sys.exit(0)
signal.signal(signal.SIGTERM, on_term)
say("up " + me)
while True:
    time.sleep(1)
"""


def test_it_stops_its_children_at_once_and_the_one_marked_last_after_them(
    tmp_path: Path,
) -> None:
    log = tmp_path / "log"

    def child(me: str, other: str, last: bool = False) -> Child:
        def launch() -> subprocess.Popen[bytes]:
            argv = [sys.executable, "-c", STOPPING, str(log), me, other]
            return subprocess.Popen(argv)

        return Child(me, launch, stops_last=last)

    supervisor = Supervisor(
        [child("redis", "redis", last=True), child("beat", "worker"), child("worker", "beat")],
        poll_s=0.02,
    )
    runner = threading.Thread(target=supervisor.run)
    runner.start()
    deadline = time.monotonic() + 30
    while not (log.exists() and log.read_text().count("up ") == 3):
        assert time.monotonic() < deadline, "the children did not start"
        time.sleep(0.05)
    supervisor.stop()
    runner.join(timeout=60)
    lines = log.read_text().split()
    said = [" ".join(pair) for pair in zip(lines[::2], lines[1::2], strict=True)]
    assert "saw worker" in said and "saw beat" in said  # both told before either ended
    ends = [said.index("exit beat"), said.index("exit worker")]
    assert said.index("term redis") > max(ends)  # the Redis the others use, after them

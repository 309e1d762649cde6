"""`make run` stops cleanly when make itself is signalled: every process it started ends
(the service, the beat, both workers and their pools, the private Redis), and the Redis
after the workers, so their shutdown logs no Redis error.

SIGTERM to make is passed on to its recipe by make; SIGINT is not (make waits for a
recipe the terminal would have signalled too), which `notifier run --stop-with-parent`
covers. make runs as a real process on this checkout's Makefile with the interpreter
running the tests, a private Redis and free ports."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.feed_server import feed_server
from tests.support.local import ALLOW_ENV
from tests.support.procs import alive, descendants, title
from tests.support.statuspage_docs import summary_json

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make")

# It starts the whole service twice, with real processes: an end-to-end test.
pytestmark = [pytest.mark.skipif(MAKE is None, reason="no make on this machine"), pytest.mark.e2e]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def workdir() -> Iterator[Path]:
    # Short: the private Redis's socket path must stay under 108 bytes.
    path = Path(tempfile.mkdtemp(prefix="mkrun-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def feed() -> Iterator[str]:
    with feed_server() as server:
        server.put("/a.json", summary_json([], "Alpha"))
        yield server.url("/a.json")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_a_signal_to_make_stops_every_process_make_run_started(
    sig: signal.Signals, workdir: Path, feed: str
) -> None:
    config = workdir / "subs.yaml"
    config.write_text(
        "providers:\n"
        f"  - {{id: alpha, name: Alpha, poll_interval: 1,\n"
        f"     feed: {{url: '{feed}', format: statuspage-json}}}}\n"
        "subscribers:\n  - name: platform\n    slack: {channel: '#x'}\n"
    )
    stamp = workdir / "installed"  # the venv is this one: make must not install anything
    stamp.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")} | ALLOW_ENV
    env |= {"NOTIFIER_CONFIG": str(config), "NOTIFIER_DATA_DIR": str(workdir / "d"),
            "NOTIFIER_WEB_PORT": str(_free_port())}  # fmt: skip
    venv = Path(sys.executable).parent.parent
    log = workdir / "log"
    with log.open("w") as out:
        make = subprocess.Popen(
            [MAKE, "-s", "-C", str(ROOT), "run", f"VENV={venv}", f"STAMP={stamp}"],
            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            # As at a terminal: make handles SIGINT (a shell may have left it ignored).
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )  # fmt: skip
    started: set[int] = set()
    stopped_at = 0
    try:
        deadline = time.monotonic() + 90
        while "first poll of each provider" not in log.read_text():
            assert make.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        started = descendants(make.pid)
        titles = [title(p) for p in started if alive(p)]
        assert any("redis-server" in t.split()[0] for t in titles), titles
        roles = {t.split(" [")[0].strip() for t in titles if t.startswith("notifier")}
        assert roles == {"notifier: beat", "notifier: supervisor", "notifier: worker"}, titles
        assert len(started) >= 7, titles  # and the two workers' pool processes

        stopped_at = len(log.read_text())
        os.kill(make.pid, sig)  # make alone, as `kill -INT <pid of make>` does

        make.wait(timeout=90)
        deadline = time.monotonic() + 30
        while left := [p for p in started if alive(p)]:
            assert time.monotonic() < deadline, f"still running: {left}"
            time.sleep(0.2)
    finally:
        for pid in started | {make.pid}:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        make.wait(timeout=10)
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]
    # Redis outlived the workers: none of them met a closed Redis while stopping.
    for sign in ("Redis does not answer", "Connection refused", "ConnectionError",
                 "Error 111", "Connection closed by server", "ERROR"):  # fmt: skip
        assert sign not in text[stopped_at:], text[stopped_at:]

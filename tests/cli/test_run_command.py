"""`notifier run` refuses a broken subscription file up front, with file:line errors; a
good one starts with a banner that shows what is watched and whether it can deliver."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.support.feed_server import feed_server
from tests.support.local import ALLOW_ENV
from tests.support.procs import alive, descendants, title
from tests.support.statuspage_docs import FakeIncident, summary_json

ROOT = Path(__file__).resolve().parents[2]


def test_it_refuses_to_start_with_a_typo_in_the_config(tmp_path: Path) -> None:
    bad = tmp_path / "subscriptions.yaml"
    bad.write_text(
        "providers:\n  - id: openai\n    pol_interval: 5\n"
        "subscribers:\n  - name: a\n    slack: {chanel: '#x'}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env |= {"NOTIFIER_CONFIG": str(bad), "NOTIFIER_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, "-m", "notifier", "run"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "subscriptions.yaml:3: providers[0].pol_interval: unknown key" in done.stderr
    assert "subscriptions.yaml:6: subscribers[0].slack.chanel: unknown key" in done.stderr
    assert not (tmp_path / "data").exists()  # nothing was started


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.e2e
def test_a_start_shows_what_is_watched_and_the_log_reads_as_a_story() -> None:
    """A real `notifier run` (private Redis, Celery worker with embedded beat) against a
    local feed and an address where nothing listens, both polled every second."""
    incident = FakeIncident("inc-a1", "Elevated API errors")
    incident.add("investigating", "2024-12-26T19:00:00.000Z", "Looking")
    with feed_server() as feeds, tempfile.TemporaryDirectory(prefix="nrun-") as tmp:
        feeds.put("/a.json", summary_json([incident], "Alpha"))
        config = Path(tmp) / "subs.yaml"
        config.write_text(
            "providers:\n"
            f"  - {{id: alpha, name: Alpha, poll_interval: 1,\n"
            f"     feed: {{url: '{feeds.url('/a.json')}', format: statuspage-json}}}}\n"
            f"  - {{id: beta, name: Beta, poll_interval: 1,\n"
            f"     feed: {{url: 'http://127.0.0.1:{_free_port()}/b.json', format: auto}}}}\n"
            "subscribers:\n  - name: platform\n    slack: {channel: '#x'}\n"
            "    email: {to: [ops@example.com]}\n"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")} | ALLOW_ENV
        env |= {"NOTIFIER_CONFIG": str(config), "NOTIFIER_DATA_DIR": f"{tmp}/d"}
        env["NOTIFIER_WEB_PORT"] = "0"  # a free port, never 8080: other runs share the machine
        err = Path(tmp) / "stderr"
        workers: set[int] = set()
        redis_pid = 0
        with err.open("w") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "notifier", "run", "--concurrency", "1"],
                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True,
                start_new_session=True,
            )  # fmt: skip
            try:
                deadline = time.monotonic() + 60
                while "first poll of each provider" not in err.read_text():
                    assert time.monotonic() < deadline, err.read_text()[-3000:]
                    assert proc.poll() is None, err.read_text()[-3000:]
                    time.sleep(0.2)
                # A few more rounds of polls (both providers are polled every second),
                # tasks and HTTP requests.
                polled = feeds.hits.get("/a.json", 0)
                while feeds.hits.get("/a.json", 0) < polled + 3:
                    assert time.monotonic() < deadline + 30, err.read_text()[-3000:]
                    assert proc.poll() is None, err.read_text()[-3000:]
                    time.sleep(0.1)
                below = descendants(proc.pid)
                (redis_pid,) = [p for p in below if "redis-server" in title(p).split()[0]]
                workers = below - {redis_pid}
            finally:
                os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C at a terminal
                try:
                    # The private Redis is out of the group's reach: it stops after the
                    # workers and the beat, which still write to it as they stop.
                    while [p for p in workers if alive(p)]:
                        assert alive(redis_pid), "the private Redis stopped before the workers"
                        time.sleep(0.02)
                finally:
                    out, _ = proc.communicate(timeout=60)
        log = err.read_text()
    banner = [line.removeprefix("notifier: ") for line in log.splitlines()]
    assert f"config    {config}: 2 providers, 1 subscriber" in banner
    assert "watching  alpha (every 1s), beta (every 1s)" in banner
    slack = "slack     no credentials: its alerts print on stdout (console); used by platform"
    assert slack in banner
    assert "  alpha  baseline taken, 1 open incident" in banner
    assert "  beta   failing: connection refused: nothing listens at that address" in banner
    # The story at INFO: the change found, what was printed instead of sent, the failure once.
    assert "change(s): new_incident inc-a1" in log
    assert "printed (no Slack credentials): new_incident alpha/inc-a1 to platform" in log
    assert log.count("feed poll failed (1 in a row)") == 1
    assert "feed poll failed (2 in a row)" not in log
    # Not the chatter: no per-task lines, no per-request lines, no Celery banner.
    assert " received" not in log and " succeeded in " not in log
    assert "Sending due task" not in log
    assert "HTTP Request:" not in log
    # The history's migration says what it ran, but not alembic's set-up.
    assert "Running upgrade  -> 0001" in log
    assert "setup plugin" not in log and "Context impl" not in log
    assert "[tasks]" not in out
    # And the change printed once, for both of the subscriber's routes.
    assert out.count("[MAJOR] Alpha: Elevated API errors") == 1

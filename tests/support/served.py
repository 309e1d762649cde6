"""A served process for a test: `python -m notifier <args>` (`run`, `web`, `worker`,
`beat`) in its own process group, logging to a file, on free ports and its own data
directory, with waits that have a deadline and fail with the log's tail. Made here.

    env = served_env(tmp_path, redis_url, key_prefix, NOTIFIER_CONFIG=str(config))
    with Served(["run", "--concurrency", "1"], env, tmp_path / "run.log") as svc:
        svc.wait_ready()                # the start banner named its web URL, /healthz 200
        svc.wait_for(lambda: ..., 30, "the first post")

Safe under pytest-xdist: nothing here uses a fixed port or a shared path.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.procs import child_titled, children, title

ROOT = Path(__file__).resolve().parents[2]


def wait_for(
    condition: Callable[[], bool], timeout: float, what: str, log: Callable[[], str]
) -> float:
    """Poll `condition` every 0.1 s; the seconds it took, or fail with the log's tail."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if condition():
            return time.monotonic() - began
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout}s waiting for {what}\n{log()[-15000:]}")


def served_env(data: Path, redis_url: str, key_prefix: str, **settings: str) -> dict[str, str]:
    """The environment of a served process: this one's without any NOTIFIER_* variable,
    then the test's Redis and key prefix, a data directory under `data`, the web endpoint
    on a free port (never 8080: other test runs share the machine), then `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    return env | {
        "NOTIFIER_REDIS_URL": redis_url,
        "NOTIFIER_KEY_PREFIX": key_prefix,
        "NOTIFIER_DATA_DIR": str(data / "data"),
        "NOTIFIER_WEB_PORT": "0",
        **settings,
    }


class Served:
    """`python -m notifier <args>` in its own process group, logging to `log`."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log = args, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Served:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "notifier", *self.args], cwd=ROOT, env=self.env,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        return self

    def __enter__(self) -> Served:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def wait_for(self, condition: Callable[[], bool], timeout: float, what: str) -> float:
        """Wait for `condition`, failing early (with the log) if the process exits."""

        def alive_and() -> bool:
            if self.proc is not None and self.proc.poll() is not None and not condition():
                pytest.fail(f"exited {self.proc.returncode} waiting for {what}\n"
                            f"{self.text()[-15000:]}")  # fmt: skip
            return condition()

        return wait_for(alive_and, timeout, what, self.text)

    def wait_ready(self, timeout: float = 60) -> float:
        """Until the start banner names the web URL and /healthz answers 200."""
        return self.wait_for(lambda: bool(self.url) and self.healthz() == 200, timeout,
                             "a healthy service")  # fmt: skip

    def child(self, role: str) -> int:
        pid = child_titled(self.pid, f"notifier: {role}")
        assert pid is not None, (role, self.text()[-5000:])
        return pid

    def processes(self) -> set[int]:
        """Every process of the service: supervisor, its children and theirs."""
        found, todo = set(), [self.pid]
        while todo:
            pid = todo.pop()
            if title(pid):
                found.add(pid)
                todo += children(pid)
        return found

    @property
    def url(self) -> str:
        for line in self.text().splitlines():  # the start banner's `web` line
            if line.startswith("notifier: web ") and "http://" in line:
                return line.split()[2]
        return ""

    def get(self, path: str) -> tuple[int, bytes]:
        """GET `path` of the web endpoint: status and body (0 when nothing answers)."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as resp:
                return int(resp.status), resp.read()
        except urllib.error.HTTPError as err:
            return int(err.code), err.read()
        except OSError:
            return 0, b""

    def healthz(self) -> int:
        return self.get("/healthz")[0]

    def kill(self) -> None:
        """SIGKILL the whole process group: nothing shuts down cleanly."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout: float = 40) -> None:
        """SIGTERM the group (thawing any stopped process first); SIGKILL after `timeout`."""
        if self.proc is None or self.proc.poll() is not None:
            return
        for pid in self.processes():
            os.kill(pid, signal.SIGCONT)
        os.killpg(self.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

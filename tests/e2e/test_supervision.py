"""`notifier run` cannot go blind: real processes, the test's own Redis, a local feed.

A killed beat is logged and replaced and polling resumes; a frozen beat turns /healthz
to 503 (these two share one service, whole and healthy again after each); a child that
keeps dying ends `notifier run` non-zero; `notifier worker` exits non-zero when its
worker dies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis

from notifier.models import parse_iso
from notifier.store.feeds.providers import ProviderStore
from tests.support.feed_server import FeedServer
from tests.support.local import ALLOW_ENV
from tests.support.procs import child_titled, title
from tests.support.statuspage_docs import summary_json

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
FEED_PATH = "/api/v2/summary.json"


@dataclass
class Service:
    proc: subprocess.Popen[bytes]
    log: Path
    config: Path
    prefix: str

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.1)
        pytest.fail(f"timed out after {timeout}s waiting for {what}\n{self.text()[-20000:]}")

    @property
    def url(self) -> str:
        for line in self.text().splitlines():  # the start banner's `web` line
            if line.startswith("notifier: web ") and "http://" in line:
                return line.split()[2]
        return ""

    def healthz(self) -> tuple[int, dict[str, Any]]:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=5) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def child(self, role: str) -> int:
        pid = child_titled(self.proc.pid, f"notifier: {role}")
        assert pid is not None, (role, self.text()[-5000:])
        return pid


@contextmanager
def serving(tmp: Path, redis_url: str, key_prefix: str) -> Iterator[dict[str, str]]:
    """The environment of a service polling a local feed every second, with short
    heartbeat and visibility thresholds; its subscription file is under `tmp`."""
    feeds = FeedServer().start()
    feeds.put(FEED_PATH, summary_json([]))
    config = tmp / "subscriptions.yaml"
    config.write_text(
        "providers:\n  - id: acme\n    name: Acme Cloud\n"
        f'    feed: {{url: "{feeds.url(FEED_PATH)}", format: statuspage-json}}\n'
        "    poll_interval: 1\n"
        'subscribers:\n  - name: platform\n    slack: {channel: "#vendor-status"}\n'
    )
    try:
        yield {
            **{k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")},
            **ALLOW_ENV,
            "NOTIFIER_REDIS_URL": redis_url,
            "NOTIFIER_KEY_PREFIX": key_prefix,
            "NOTIFIER_CONFIG": str(config),
            "NOTIFIER_DATA_DIR": str(tmp / "data"),
            "NOTIFIER_WEB_PORT": "0",
            "NOTIFIER_HEARTBEAT_INTERVAL": "0.5",  # stale after 1.5 s
            "NOTIFIER_BEAT_LOCK_TIMEOUT": "2",  # a killed beat's successor waits 2 s
            "NOTIFIER_VISIBILITY_TIMEOUT": "3",
        }
    finally:
        feeds.stop()


@pytest.fixture
def environment(tmp_path: Path, redis_url: str, key_prefix: str) -> Iterator[dict[str, str]]:
    with serving(tmp_path, redis_url, key_prefix) as env:
        yield env


def start(tmp_path: Path, env: dict[str, str], *args: str) -> Service:
    log = tmp_path / f"{args[0]}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "notifier", *args], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
    return Service(proc, log, Path(env["NOTIFIER_CONFIG"]), env["NOTIFIER_KEY_PREFIX"])


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Service]:
    """One `notifier run` for the tests that break a child of it and wait until it is
    whole and healthy again (starting one costs seconds of CPU); their own key prefix."""
    tmp = tmp_path_factory.mktemp("supervised")
    prefix = f"notifier-test:{uuid.uuid4().hex[:12]}"
    client = redis.Redis.from_url(redis_url)
    with serving(tmp, redis_url, prefix) as env:
        svc = start(tmp, env, "run", "--concurrency", "1")
        try:
            svc.wait_for(lambda: bool(svc.url) and svc.healthz()[0] == 200, 60,
                         "a healthy service")  # fmt: skip
            yield svc
        finally:
            if svc.proc.poll() is None:
                svc.proc.send_signal(signal.SIGTERM)
                try:
                    svc.proc.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    os.killpg(svc.proc.pid, signal.SIGKILL)  # its children too
                    svc.proc.wait()
            for key in client.scan_iter(match=f"{prefix}*", count=1000):
                client.delete(key)
            client.close()


def last_poll(client: redis.Redis, prefix: str) -> datetime | None:
    return parse_iso(ProviderStore(client, prefix).status("acme").get("polled_at"))


@pytest.mark.xdist_group("e2e-supervised")  # on the worker that has the service
def test_a_killed_beat_is_logged_replaced_and_polling_resumes(
    service: Service, redis_client: redis.Redis
) -> None:
    assert title(service.proc.pid) == "notifier: supervisor"
    assert title(service.child("worker")).startswith("notifier: worker")
    beat = service.child("beat")
    os.kill(beat, signal.SIGKILL)
    killed_at = datetime.now(UTC).replace(microsecond=0)
    service.wait_for(lambda: f"beat (pid {beat}) died: killed by SIGKILL" in service.text(), 5,
                     "the death logged")  # fmt: skip
    line = next(li for li in service.text().splitlines() if f"pid {beat}) died" in li)
    assert " ERROR " in line
    service.wait_for(lambda: (last_poll(redis_client, service.prefix) or killed_at) > killed_at, 30,
                     "a poll after the kill")  # fmt: skip
    # The new beat takes its title once it runs its own code; a tick the killed one queued
    # may be polled before that, on a busy machine.
    service.wait_for(lambda: child_titled(service.proc.pid, "notifier: beat") not in (None, beat),
                     30, "a new beat")  # fmt: skip
    service.wait_for(lambda: service.healthz()[0] == 200, 30, "healthy again")


@pytest.mark.xdist_group("e2e-supervised")
def test_a_frozen_beat_turns_healthz_to_503_naming_the_beat(service: Service) -> None:
    status, body = service.healthz()
    assert status == 200
    assert [c["name"] for c in body["checks"]] == [
        "redis",
        "beat",
        "workers",
        "due",
        "feeds",
        "history",
    ]
    assert all({"age_s", "threshold_s", "ok", "detail"} <= set(c) for c in body["checks"])
    beat = service.child("beat")
    os.kill(beat, signal.SIGSTOP)
    try:
        service.wait_for(lambda: service.healthz()[0] == 503, 10, "503 from a frozen beat")
        checks = {c["name"]: c for c in service.healthz()[1]["checks"]}
        assert not checks["beat"]["ok"] and checks["beat"]["age_s"] > 1.5
        assert checks["beat"]["threshold_s"] == 1.5
        assert checks["workers"]["ok"] and checks["redis"]["ok"]
    finally:
        os.kill(beat, signal.SIGCONT)
    service.wait_for(lambda: service.healthz()[0] == 200, 10, "healthy once it runs again")


def test_a_child_that_keeps_dying_ends_notifier_run_non_zero(
    tmp_path: Path, environment: dict[str, str], redis_client: redis.Redis
) -> None:
    # Two deaths make a crash loop: each death costs a process start, the slow part here.
    svc = start(tmp_path, environment | {"NOTIFIER_RESTART_LIMIT": "2"}, "run")
    try:
        svc.wait_for(lambda: child_titled(svc.proc.pid, "notifier: beat") is not None, 30,
                     "the beat")  # fmt: skip
        svc.config.write_text("providers: [\n")  # every new beat now dies at start
        os.kill(svc.child("beat"), signal.SIGKILL)
        svc.proc.wait(timeout=40)
    finally:
        if svc.proc.poll() is None:
            os.killpg(svc.proc.pid, signal.SIGKILL)  # its children too
    assert svc.proc.returncode == 1
    assert "beat died 2 times in 600 s: giving up" in svc.text()


def test_notifier_worker_exits_non_zero_when_its_worker_dies(
    tmp_path: Path, environment: dict[str, str], redis_client: redis.Redis
) -> None:
    svc = start(tmp_path, environment, "worker", "--concurrency", "1")
    try:
        svc.wait_for(lambda: child_titled(svc.proc.pid, "notifier: worker") is not None, 50,
                     "the worker")  # fmt: skip
        worker = svc.child("worker")
        svc.wait_for(lambda: "ready" in svc.text(), 30, "the worker ready")
        os.kill(worker, signal.SIGKILL)
        svc.proc.wait(timeout=15)
    finally:
        if svc.proc.poll() is None:
            os.killpg(svc.proc.pid, signal.SIGKILL)  # its children too
    assert svc.proc.returncode == 1
    assert f"worker (pid {worker}) died: killed by SIGKILL" in svc.text()

"""The test suite and the benchmarks bring their own Redis: a Redis they were not given
(the developer's, named by NOTIFIER_REDIS_URL in their shell or their `.env`) never
receives a single connection from them."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from bench.support import bench_redis
from notifier.store.conn.server import PrivateRedis

ROOT = Path(__file__).resolve().parents[2]

# A slice of the suite that reaches Redis every way the suite does: in-process clients, a
# CLI command as a child process, and a real Celery worker started by the bench support.
SLICE = (
    "tests/store/test_provider_store.py",
    "tests/cli/test_pending_command.py",
    "tests/project/test_bench_smoke.py::test_fanout_posts_once_per_subscriber",
)


class WatchedRedis:
    """A Redis that stands for the user's own. One connection of ours stays open to watch
    it; any other client would raise `total_connections_received`."""

    def __init__(self, server: PrivateRedis) -> None:
        self.url = server.url
        self.client = redis.Redis.from_url(server.url)
        self.connections_at_start = self.connections()

    def connections(self) -> int:
        return int(self.client.info("stats")["total_connections_received"])

    def touched(self) -> dict[str, object]:
        """What others did here since we started watching (empty: nothing)."""
        found: dict[str, object] = {}
        if (extra := self.connections() - self.connections_at_start) > 0:
            found["connections"] = extra
        if keyspace := self.client.info("keyspace"):
            found["keyspace"] = keyspace
        return found


@pytest.fixture
def users_redis() -> Iterator[WatchedRedis]:
    with tempfile.TemporaryDirectory(prefix="notifier-users-redis-") as tmp:
        server = PrivateRedis(Path(tmp)).start(persist=False)
        watched = WatchedRedis(server)
        try:
            yield watched
        finally:
            watched.client.close()
            server.stop()


def test_the_suite_never_connects_to_the_redis_in_notifier_redis_url(
    users_redis: WatchedRedis, tmp_path: Path
) -> None:
    # The developer's shell and their `.env` both name their own Redis.
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    (workdir / ".env").write_text(f"NOTIFIER_REDIS_URL={users_redis.url}\n")
    env = {k: v for k, v in os.environ.items() if k != "NOTIFIER_TEST_REDIS_URL"}
    env |= {"NOTIFIER_REDIS_URL": users_redis.url, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         f"--rootdir={ROOT}", "-c", str(ROOT / "pyproject.toml"),
         f"--basetemp={tmp_path / 'basetemp'}", *(str(ROOT / t) for t in SLICE)],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout and "skipped" not in done.stdout
    assert users_redis.touched() == {}


def test_the_benchmarks_never_use_notifier_redis_url(
    users_redis: WatchedRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFIER_REDIS_URL", users_redis.url)
    monkeypatch.delenv("NOTIFIER_TEST_REDIS_URL", raising=False)
    monkeypatch.delenv("NOTIFIER_BENCH_REDIS_URL", raising=False)
    with bench_redis() as url:
        client = redis.Redis.from_url(url)
        client.set("notifier-bench:private-check", "1", ex=60)
        client.close()
    assert url != users_redis.url
    assert users_redis.touched() == {}


def test_the_benchmarks_use_the_redis_they_are_given(
    users_redis: WatchedRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFIER_BENCH_REDIS_URL", users_redis.url)
    with bench_redis() as url:
        assert url == users_redis.url

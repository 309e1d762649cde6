"""Two beat processes (an HA deployment) still send each tick once (the one-second
task that starts due polls): redbeat's lock."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from tests.support.local import ALLOW_ENV
from tests.support.workers import WorkerProcess

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def _queued(client: redis.Redis, key: str) -> int:
    """Tick messages waiting in the queue (other beat entries share it)."""
    raws: list[bytes] = client.lrange(key, 0, -1)  # type: ignore[assignment]
    return sum(json.loads(r).get("headers", {}).get("task") == "notifier.tick" for r in raws)


def _wait(condition: Callable[[], bool], what: str, *beats: WorkerProcess) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}\n" + "\n".join(b.tail() for b in beats))
        time.sleep(0.1)


def test_two_beats_schedule_each_poll_once_and_the_standby_takes_over(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis
) -> None:
    config = tmp_path / "subscriptions.yaml"
    config.write_text(
        "providers:\n"
        "  - id: acme\n    name: Acme\n"
        "    feed: {url: 'http://127.0.0.1:9/feed.json', format: statuspage-json}\n"
        "    poll_interval: 1\n"
        "subscribers:\n  - name: ops\n    slack: {channel: '#ops'}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")} | ALLOW_ENV
    env |= {
        "NOTIFIER_REDIS_URL": redis_url,
        "NOTIFIER_KEY_PREFIX": key_prefix,
        "NOTIFIER_CONFIG": str(config),
        "NOTIFIER_DATA_DIR": str(tmp_path / "data"),
        # Which beat sends is read from its "Sending due task" lines, which are DEBUG.
        "NOTIFIER_LOG_LEVEL": "DEBUG",
        "NOTIFIER_BEAT_LOCK_TIMEOUT": "2",  # the shortest: a dead leader's lock lapses in 2 s
    }
    queue = f"{key_prefix}:celery:poll"  # no worker runs: the messages stay queued
    first = WorkerProcess(["beat"], env, tmp_path / "beat1.log").start()
    second = WorkerProcess(["beat"], env, tmp_path / "beat2.log").start()
    try:
        _wait(lambda: _queued(redis_client, queue) > 0, "a first tick", first, second)
        start, began = _queued(redis_client, queue), time.monotonic()
        _wait(lambda: _queued(redis_client, queue) - start >= 4, "four more ticks", first, second)
        sent = _queued(redis_client, queue) - start
        elapsed = time.monotonic() - began
        # one beat: about one tick a second; two active beats would send about twice that
        assert 0 < sent <= elapsed + 2, (sent, elapsed)

        senders = [
            proc
            for proc, log in ((first, "beat1.log"), (second, "beat2.log"))
            if "Sending due task" in (tmp_path / log).read_text()
        ]
        assert len(senders) == 1  # the other stands by, waiting for the lock
        leader = senders[0]
        leader.kill()  # a crash: the lock is never released
        before = _queued(redis_client, queue)
        # The lock lapses after 2 s; the standby takes over and ticks on.
        _wait(lambda: _queued(redis_client, queue) - before >= 3, "the standby's ticks",
              first, second)  # fmt: skip
    finally:
        first.stop()
        second.stop()

"""`notifier healthcheck --beat|--worker`: the container probe of each production part."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis

from notifier.store.ops.heartbeats import Heartbeats
from tests.support.cli import run_notifier

ROOT = Path(__file__).resolve().parents[2]


def probe(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    return run_notifier(["healthcheck", *args], env=base | env)


def test_each_part_is_healthy_only_with_a_fresh_heartbeat_of_its_own(
    redis_url: str, key_prefix: str, redis_client: redis.Redis
) -> None:
    env = {"NOTIFIER_REDIS_URL": redis_url, "NOTIFIER_KEY_PREFIX": key_prefix}
    beats = Heartbeats(redis_client, key_prefix)
    now = datetime.now(UTC)
    beats.beat(now - timedelta(seconds=60))
    beats.worker("celery@some-other-host", now, expire_after=15)
    done = probe(env, "--beat")
    # "60 s" or more: the probe itself may start slowly on a loaded machine.
    assert done.returncode == 1 and re.match(
        r"unhealthy: beat: last tick \d+(\.\d+)? s ago", done.stderr
    )
    assert done.stderr.endswith(" s ago, more than 15.0 s\n")
    done = probe(env, "--worker")
    me = f"celery@{socket.gethostname()}"
    assert (
        done.returncode == 1
        and done.stderr == f"unhealthy: no heartbeat from {me} within 3 ticks\n"
    )
    now = datetime.now(UTC)  # the probes above may have taken a while on a loaded machine
    beats.beat(now)
    beats.worker(me, now, expire_after=15)
    assert probe(env, "--beat").returncode == 0
    assert probe(env, "--worker").returncode == 0
    assert probe(env).stdout == "ok\n"  # --redis, the default

"""Every command that needs Redis says so in one line when it cannot have it: which Redis
(password hidden), why, and what to do; exit status 2, never a traceback. Each command
runs as a real `python -m notifier` process."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from notifier.cli import UNREACHABLE, build_parser
from notifier.store.conn.server import PrivateRedis
from tests.support.cli import run_notifier

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "subscriptions.example.yaml"
SECRET = "hunter2-redis-password"

# Every command that reaches Redis; the rest never do. A new command must join one list.
NEEDS_REDIS = (["status"], ["status", "--json"], ["deliveries"], ["pending", "--json"],
               ["quarantine", "list"], ["web", "--port", "0"], ["worker"], ["beat"], ["run"],
               ["silence", "list"], ["silence", "expire", "abcd1234"])  # fmt: skip
HEALTHCHECK = ["healthcheck"]
# The history commands talk to the history database, never to Redis.
OFFLINE = {"config", "feed", "init", "providers", "replay", "test-alert", "db", "deps", "history",
           "report"}  # fmt: skip


def notifier(
    args: list[str], env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    return run_notifier(args, env=base | env, timeout=timeout)


def one_line(done: subprocess.CompletedProcess[str], code: int) -> str:
    """The single stderr line of a command that failed with `code`."""
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == code, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.fixture
def nothing_listens() -> Iterator[int]:
    """A 127.0.0.1 port we hold bound but never listen on: every connection is refused,
    and no other process can start listening there while the test runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"NOTIFIER_CONFIG": str(EXAMPLE), "NOTIFIER_DATA_DIR": str(tmp_path / "data")}


def test_every_command_is_either_checked_here_or_never_touches_redis() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    checked = {args[0] for args in NEEDS_REDIS} | {HEALTHCHECK[0]}
    assert set(sub.choices) == checked | OFFLINE


@pytest.mark.parametrize("args", NEEDS_REDIS, ids=" ".join)
def test_it_prints_one_line_when_redis_is_down(
    args: list[str], nothing_listens: int, env: dict[str, str]
) -> None:
    env["NOTIFIER_REDIS_URL"] = f"redis://:{SECRET}@127.0.0.1:{nothing_listens}/0"
    done = notifier(args, env)
    line = one_line(done, UNREACHABLE)
    assert line.startswith(f"notifier {args[0]}: cannot reach Redis at ")
    assert f"redis://:***@127.0.0.1:{nothing_listens}/0" in line
    assert "Connection refused" in line
    assert "NOTIFIER_REDIS_URL" in line and "`notifier run`" in line
    assert SECRET not in done.stderr + done.stdout
    assert done.stdout == ""


def test_healthcheck_keeps_its_probe_contract_when_redis_is_down(
    nothing_listens: int, env: dict[str, str]
) -> None:
    env["NOTIFIER_REDIS_URL"] = f"redis://:{SECRET}@127.0.0.1:{nothing_listens}/0"
    done = notifier(HEALTHCHECK, env)
    assert one_line(done, 1) == "unhealthy: Redis does not answer"


def test_a_wrong_password_is_named_as_such_and_never_shown(
    tmp_path: Path, env: dict[str, str]
) -> None:
    server = PrivateRedis(tmp_path / "guarded").start(persist=False)
    try:
        redis.Redis.from_url(server.url).config_set("requirepass", "the-right-one")
        env["NOTIFIER_REDIS_URL"] = f"unix://:{SECRET}@{server.socket.resolve()}"
        done = notifier(["deliveries"], env)
    finally:
        server.stop()
    line = one_line(done, UNREACHABLE)
    assert line.startswith(f"notifier deliveries: Redis at unix://:***@{server.socket.resolve()}")
    assert "Check the password in NOTIFIER_REDIS_URL" in line
    assert SECRET not in done.stderr + done.stdout


def test_run_says_why_its_private_redis_did_not_start(tmp_path: Path, env: dict[str, str]) -> None:
    # A unix socket's path must be shorter than 108 bytes: this data dir makes it longer.
    data_dir = tmp_path / ("d" * 110)
    env["NOTIFIER_DATA_DIR"] = str(data_dir)
    done = notifier(["run"], env)
    line = one_line(done, UNREACHABLE)
    assert line.startswith("notifier run: cannot start a private Redis: redis-server exited")
    assert "unix socket path too long" in line
    assert str(data_dir / "redis" / "redis.log") in line
    assert "NOTIFIER_REDIS_URL" in line


def test_web_says_when_its_port_is_taken(
    redis_url: str, key_prefix: str, env: dict[str, str]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env |= {"NOTIFIER_REDIS_URL": redis_url, "NOTIFIER_KEY_PREFIX": key_prefix,
                "NOTIFIER_LOG_LEVEL": "WARNING"}  # fmt: skip
        done = notifier(["web", "--port", str(port)], env)
    lines = done.stderr.splitlines()
    assert "Traceback" not in done.stderr and done.returncode == 2, done.stderr
    assert lines[-1] == (
        f"notifier web: cannot listen on 127.0.0.1:{port}: Address already in use; choose "
        "another with --host/--port or NOTIFIER_WEB_HOST/NOTIFIER_WEB_PORT"
    )

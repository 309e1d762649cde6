"""The web endpoint's guards over real HTTP: the token, body limits, slow and malformed
clients, autoescaped pages, and the dead man's switch."""

from __future__ import annotations

import base64
import logging
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import redis
from pydantic import SecretStr

from notifier.pipeline.runtime.health import Limits
from notifier.store.ops.heartbeats import Heartbeats
from notifier.web.app import create_app
from notifier.web.serving.auth import is_loopback, refusal
from notifier.web.serving.serve import WebThread, bind
from notifier.web.wiring import WebWiring
from tests.support.feed_server import feed_server

TOKEN = "s3cret-web-token-value"
LIMITS = Limits(tick_s=5.0, due_max_age_s=120.0)


def request(
    url: str, headers: dict[str, str] | None = None, data: bytes | None = None
) -> tuple[int, str]:
    req = urllib.request.Request(url, data, headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def serve(ctx: WebWiring, header_timeout: float = 10.0) -> Iterator[str]:
    web = WebThread(create_app(ctx), bind("127.0.0.1", 0), header_timeout).start()
    try:
        yield web.url
    finally:
        web.stop()


@pytest.fixture
def guarded(redis_client: redis.Redis, key_prefix: str) -> Iterator[str]:
    ctx = WebWiring(redis_client, key_prefix, f"{key_prefix}:celery:", LIMITS,
                     web_token=SecretStr(TOKEN), read_timeout=0.5)  # fmt: skip
    yield from serve(ctx, header_timeout=0.5)


def basic(password: str) -> str:
    return "Basic " + base64.b64encode(f"anyone:{password}".encode()).decode()


def test_with_a_token_every_page_but_healthz_and_the_twilio_webhook_requires_it(
    guarded: str,
) -> None:
    assert request(guarded + "/metrics")[0] == 401
    assert request(guarded + "/")[0] == 401
    assert request(guarded + "/metrics", {"Authorization": "Bearer wrong"})[0] == 401
    assert request(guarded + "/metrics", {"Authorization": basic("wrong")})[0] == 401
    assert request(guarded + "/metrics", {"Authorization": f"Bearer {TOKEN}"})[0] == 200
    assert request(guarded + "/metrics", {"Authorization": basic(TOKEN)})[0] == 200
    assert request(guarded + "/healthz")[0] == 503  # open, and truthful: nothing runs
    assert request(guarded + "/twilio/sms", data=b"From=x&Body=y")[0] == 403  # its own auth


@pytest.mark.parametrize(
    ("host", "token", "refused"),
    [
        ("127.0.0.1", None, False),
        ("::1", None, False),
        ("localhost", None, False),
        ("0.0.0.0", None, True),
        ("192.0.2.7", None, True),
        ("notifier.example.com", None, True),
        ("0.0.0.0", SecretStr(TOKEN), False),
        ("0.0.0.0", SecretStr(""), True),
    ],
)
def test_it_refuses_to_listen_beyond_loopback_without_a_token(
    host: str, token: SecretStr | None, refused: bool
) -> None:
    assert (refusal(host, token) is not None) is refused
    assert is_loopback(host) is (host in ("127.0.0.1", "::1", "localhost"))


def test_a_body_over_the_limit_gets_413(guarded: str) -> None:
    status, _ = request(guarded + "/twilio/sms", data=b"x" * (64 * 1024 + 1))
    assert status == 413


def _raw(url: str, payload: bytes) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    sock.sendall(payload)
    return sock


def test_a_slow_client_stalls_nobody_and_is_cut_off(guarded: str) -> None:
    # Promises 100 bytes and sends 3: the body never completes.
    slow_body = _raw(
        guarded, b"POST /twilio/sms HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"
    )
    slow_headers = _raw(guarded, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never ends
    try:
        began = time.monotonic()
        assert request(guarded + "/healthz")[0] == 503  # answered meanwhile, at once
        assert time.monotonic() - began < 0.4
        assert slow_body.recv(200).startswith(b"HTTP/1.1 408")  # after the 0.5 s read timeout
        assert slow_headers.recv(200) == b""  # closed after the 0.5 s header timeout
    finally:
        slow_body.close()
        slow_headers.close()


def test_a_malformed_request_gets_400_and_is_logged(
    guarded: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        sock = _raw(guarded, b"BLAH\x00 /?? HTTP/9\r\n\r\n")
        try:
            assert sock.recv(200).startswith(b"HTTP/1.1 400")
        finally:
            sock.close()
        sock = _raw(guarded, b"POST /twilio/sms HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n")
        try:
            assert sock.recv(200).startswith(b"HTTP/1.1 400")
        finally:
            sock.close()
        _until(lambda: any("Invalid HTTP request" in r.getMessage() for r in caplog.records))


def _until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_the_page_escapes_what_it_shows(redis_client: redis.Redis, key_prefix: str) -> None:
    now = datetime.now(UTC)
    beats = Heartbeats(redis_client, key_prefix)
    beats.beat(now)
    beats.worker("<script>alert(1)</script>", now, expire_after=15)
    for base in serve(WebWiring(redis_client, key_prefix, "", LIMITS)):
        status, page = request(base + "/")
        assert status == 200 and "notifier: healthy" in page
        assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_dead_mans_switch_calls_only_while_healthy(
    redis_client: redis.Redis, key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    beats = Heartbeats(redis_client, key_prefix)
    with feed_server() as check:
        check.put("/ping/check-token-123", b"OK", "text/plain")
        url = check.url("/ping/check-token-123")
        ctx = WebWiring(redis_client, key_prefix, "", LIMITS, heartbeat_url=SecretStr(url),
                         heartbeat_every=0.1)  # fmt: skip
        with caplog.at_level(logging.INFO):
            for _ in serve(ctx):
                # Unhealthy (no beat, no worker): it says so and calls nobody.
                _until(lambda: any("unhealthy" in r.getMessage() for r in caplog.records))
                assert check.hits.get("/ping/check-token-123", 0) == 0
                beats.beat(datetime.now(UTC))
                beats.worker("celery@a", datetime.now(UTC), expire_after=15)
                _until(lambda: check.hits.get("/ping/check-token-123", 0) >= 3)
    assert any("not calling the heartbeat URL: unhealthy" in r.getMessage() for r in caplog.records)
    assert all("check-token-123" not in r.getMessage() for r in caplog.records)

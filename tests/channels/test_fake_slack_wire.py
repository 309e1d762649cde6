"""The fake Slack behaves like an HTTP server where the chaos tests lean on it: a
request whose body never arrived whole (its sender killed mid-request) is not acted on."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

from tests.fakes.slack_api import FakeSlack


def _send_raw(url: str, head: bytes, body: bytes) -> None:
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=5) as sock:
        sock.sendall(head + body)
        sock.shutdown(socket.SHUT_WR)  # the sender is gone: nothing more will come
        while sock.recv(4096):
            pass


def _post(body: bytes, length: int) -> bytes:
    return (
        b"POST /api/chat.postMessage HTTP/1.1\r\nHost: slack\r\n"
        b"Authorization: Bearer xoxb-fake-token-1234\r\n"
        b"Content-Type: application/json; charset=utf-8\r\n"
        + f"Content-Length: {length}\r\n\r\n".encode()
        + body
    )


def test_a_post_whose_body_never_arrived_whole_is_not_acted_on() -> None:
    slack = FakeSlack().start()
    try:
        whole = json.dumps({"channel": "#ops", "text": "hello"}).encode()
        _send_raw(slack.url, _post(b"", len(whole)), b"")  # killed after its headers
        _send_raw(slack.url, _post(whole[:10], len(whole)), b"")  # killed mid-body
        assert slack.messages == []
        assert slack.truncated == 2
        _send_raw(slack.url, _post(whole, len(whole)), b"")
        assert [m["channel"] for m in slack.messages] == [slack._channel_id("#ops")]
    finally:
        slack.stop()

"""The served process, as a user runs it: `notifier run` or `notifier web` as a child in
its own session, on a port chosen here, and plain HTTP to it (http.client, so a test
may name any Host and send from any loopback address). Made here.

Also the vendors' signatures, computed as they compute them: Slack's v0 HMAC and
Twilio's RequestValidator.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from tests.fakes.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Answer:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> dict[str, object]:
        return dict(json.loads(self.body))


class Served:
    """`python -m notifier <args>` with `env` (no NOTIFIER_* of the developer's shell),
    serving its web endpoint on 127.0.0.1:`port`; its output goes to `log`."""

    def __init__(self, args: list[str], env: Mapping[str, str], log: Path) -> None:
        self.port = free_port()
        self.args, self.log = args, log
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")},
            "NOTIFIER_WEB_HOST": "127.0.0.1",
            "NOTIFIER_WEB_PORT": str(self.port),
            **env,
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Served:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "notifier", *self.args], cwd=ROOT, env=self.env,
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.wait_for(lambda: self._answers(), timeout, "the web endpoint to answer")
        return self

    def _answers(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            pytest.fail(f"`notifier {' '.join(self.args)}` exited {self.proc.returncode}\n"
                        f"{self.tail()}")  # fmt: skip
        try:
            self.call("GET", "/healthz")
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGINT)  # as Ctrl-C does
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def tail(self, chars: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def wait_for(self, condition: Callable[[], object], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout}s waiting for {what}\n{self.tail()}")
            time.sleep(0.1)

    def call(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        host: str | None = None,
        source: str = "127.0.0.1",
    ) -> Answer:
        """One request over a fresh connection from `source`, naming `host` (default:
        the address it connects to)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10,
                                          source_address=(source, 0))  # fmt: skip
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", host if host is not None else f"127.0.0.1:{self.port}")
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
            data = resp.read().decode("utf-8", "replace")
            return Answer(resp.status, data, {k.lower(): v for k, v in resp.getheaders()})
        finally:
            conn.close()

    def form(
        self, path: str, fields: Mapping[str, str], headers: Mapping[str, str] | None = None,
        **kw: str,
    ) -> Answer:  # fmt: skip
        body = urlencode(fields).encode()
        sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self.call("POST", path, body, sent, **kw)


# ---- the vendors' signatures ----------------------------------------------------------


def slack_signed(body: bytes, secret: str, at: float | None = None) -> dict[str, str]:
    """Slack's v0 signature headers over `body`, made `at` (default now)."""
    ts = str(int(time.time() if at is None else at))
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def slack_press(message: Mapping[str, object], user: str) -> bytes:
    """The interactivity request Slack sends when `user` presses the "Acknowledge" button
    of `message` (a post the fake Slack recorded): block_actions with the whole message."""
    blocks = message["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    assert isinstance(blocks, list)
    [button] = [e for b in blocks if b.get("type") == "actions" for e in b["elements"]]
    payload = {
        "type": "block_actions",
        "user": {"id": "U0ACCEPT1", "username": user, "name": user},
        "channel": {"id": message["channel"]},
        "container": {"type": "message", "message_ts": message["ts"],
                      "channel_id": message["channel"]},
        "message": {"type": "message", "ts": message["ts"], "text": message.get("text", ""),
                    "blocks": blocks},
        "actions": [{"type": "button", "action_id": button["action_id"],
                     "block_id": "notifier_ack", "value": button["value"]}],
    }  # fmt: skip
    return urlencode({"payload": json.dumps(payload)}).encode()


def twilio_signed(auth_token: str, url: str, params: Mapping[str, str]) -> dict[str, str]:
    """The X-Twilio-Signature Twilio sends with a POST of `params` to `url`."""
    return {"X-Twilio-Signature": RequestValidator(auth_token).compute_signature(url, params)}

"""Helpers for the push, adaptive-polling and probe tests (made here): Statuspage
webhook bodies in Atlassian's shape, a local probe target that can turn bad, an
inline dispatcher, and a runtime over a subscription file written by the test."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from notifier.pipeline.ingest import tick as ticking
from notifier.pipeline.runtime.wiring import Runtime
from tests.support.handoff import InlineHandOff
from tests.support.runtime import build_runtime
from tests.support.statuspage_docs import FakeIncident

SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "statuspage_webhook"


def incident_push(incident: FakeIncident, page_id: str = "pg0001") -> bytes:
    """An `incident` delivery, shaped like Atlassian's (meta, page, incident with its
    incident_updates newest first, as the real samples in ../shared/samples are)."""
    body = {
        "meta": {
            "unsubscribe": "https://example.invalid/?unsubscribe=x",
            "documentation": "https://doers.statuspage.io/customer-notifications/webhooks/",
            "generated_at": "2024-12-26T19:00:01.000Z",
        },
        "page": {"id": page_id, "status_indicator": "major", "status_description": "Outage"},
        "incident": incident.to_json(page_id),
    }
    return json.dumps(body).encode()


class Inline(InlineHandOff):
    """The inline hand-off (`tests.support.handoff`) driving the tick: records the polls
    and probes the tick starts instead of running them."""

    def __init__(self, rt: Runtime, now: datetime) -> None:
        super().__init__(rt, now)
        self.polls: list[str] = []
        self.probes: list[tuple[str, int]] = []

    def tick(self, now: datetime) -> ticking.TickResult:
        self.now = now
        return ticking.tick(
            self.rt, self,
            lambda p, _expires: self.polls.append(p),
            lambda p, n, _expires: self.probes.append((p, n)),
            now,
        )  # fmt: skip


def runtime(
    tmp_path: Path, redis_url: str, key_prefix: str, text: str, **settings: object
) -> Runtime:
    return build_runtime(tmp_path, redis_url, key_prefix, text, **settings)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a probe that gave up (timeout) resets its connection: expected here


class ProbeTarget:
    """A local endpoint for probes: answers `status` (200 at first), or hangs past the
    probe's timeout when `hang` is set. Counts HEAD and GET requests it saw."""

    def __init__(self) -> None:
        self.status = 200
        self.hang = False
        self.retry_after: str | None = None
        self.methods: list[str] = []
        self.headers: list[dict[str, str]] = []
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> ProbeTarget:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                owner.methods.append(self.command)
                owner.headers.append({k.lower(): v for k, v in self.headers.items()})
                if owner.hang:
                    time.sleep(1.5)
                body = b'{"ok": true}' if self.command == "GET" else b""
                self.send_response(owner.status)
                if owner.retry_after is not None:
                    self.send_header("Retry-After", owner.retry_after)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the probe gave up waiting: fine
                    self.wfile.write(body)

            do_GET = do_HEAD = _answer

            def log_message(self, *args: object) -> None:
                pass

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def url(self, path: str = "/v1/models") -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

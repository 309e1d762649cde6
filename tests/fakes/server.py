"""A tiny threaded HTTP server on 127.0.0.1 that fakes a vendor API (made here).

Subclasses implement `handle(request) -> Reply`. Every fake can be told to answer
the next N requests with a given status, vendor error, Retry-After, or to hang
(so the client's timeout fires), which is how the channel matrix is driven.
"""

from __future__ import annotations

import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()}

    def params(self) -> dict[str, Any]:
        """JSON or form body, whichever the client sent."""
        if self.headers.get("content-type", "").startswith("application/json"):
            return dict(json.loads(self.body or b"{}"))
        return dict(self.form())


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON, str -> text
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Failure:
    status: int
    error: Any = None
    retry_after: float | None = None
    hang: bool = False


class FakeServer:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.failures = 0  # how many requests were answered with an injected failure
        self.connections: set[tuple[str, int]] = set()  # client (host, port) pairs seen
        self._failures: list[Failure] = []
        self._drops = 0  # requests to act on and then answer with a dropped connection
        self._drop_after = 0  # requests answered normally before the drops begin
        self._delays: list[float] = []  # seconds to wait before answering the next requests
        self.dropped = 0
        self.truncated = 0  # requests whose body never arrived whole: not acted on
        self.hangups = threading.Semaphore(0)  # released once per connection that ended
        self.accepted = threading.Event()  # set when a request is acted on but not answered
        self._lock = threading.Lock()
        self._release = threading.Event()
        # Requests being served at once, and the most there ever were (`answer_in_rounds`).
        self.in_flight = 0
        self.most_in_flight = 0
        self._rounds = threading.Condition(self._lock)
        self._round_size = 0
        self._round_waiting = 0
        self._round = 0
        self.short_rounds = 0  # rounds answered at the 10 s deadline, not full
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- control ---------------------------------------------------------------

    def start(self, tls: ssl.SSLContext | None = None) -> Self:
        """Listen on 127.0.0.1 (a free port), over TLS with a server context `tls`;
        returns self, so `Fake().start().url` reads."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, like the real APIs; every reply carries a Content-Length.
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; Nagle would hold the body ~40 ms.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                fake._serve(self)

            def do_GET(self) -> None:
                fake._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def shutdown_request(self, request: Any) -> None:
                try:
                    super().shutdown_request(request)  # the socket is closed here
                finally:
                    fake.hangups.release()

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._scheme = "http"
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
            self._scheme = "https"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        return f"{self._scheme}://127.0.0.1:{self._server.server_port}"

    def hung_up(self, timeout: float = 10) -> bool:
        """Wait until a connection has ended (the server's idle timeout, or the client);
        False if none did within `timeout`."""
        return self.hangups.acquire(timeout=timeout)

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 500,
        error: Any = None,
        retry_after: float | None = None,
        hang: bool = False,
    ) -> None:
        """Answer the next `n` requests with this failure instead of normally.

        Replaces any failures still pending, so `fail_next(0)` heals the fake."""
        with self._lock:
            self._failures = [Failure(status, error, retry_after, hang) for _ in range(n)]

    def accept_then_drop(self, n: int = 1, *, hang: bool = False, after: int = 0) -> None:
        """Act on the next `n` requests (the message is sent) and then close the
        connection without an answer, as when the vendor accepted a message and the
        network or our process failed before the answer arrived. With `hang`, hold
        the connection open instead (until `stop`), for a test to kill the client.
        `after`: answer that many requests normally first."""
        with self._lock:
            self._drops = -n if hang else n
            self._drop_after = after

    def answer_after(self, seconds: float, n: int = 1) -> None:
        """Act on the next `n` requests at once but answer each only `seconds` later: a
        slow vendor, so a test can act while a request is on its way."""
        with self._lock:
            self._delays = [seconds] * n

    def answer_in_rounds(self, size: int) -> None:
        """Hold each answer until `size` requests are being served at once, then answer
        that round together: a client that sends fewer at once waits (10 s, then it is
        answered anyway) and one that sends more shows in `most_in_flight`, whatever
        the machine's speed. `answer_in_rounds(0)` answers at once again."""
        with self._lock:
            self._round_size = size

    def _await_round(self) -> None:
        """Called with the lock held: hold this request until its round is full."""
        if self._round_size <= 0:
            return
        self._round_waiting += 1
        if self._round_waiting >= self._round_size:
            self._round_waiting, self._round = 0, self._round + 1
            self._rounds.notify_all()
            return
        mine = self._round
        if not self._rounds.wait_for(lambda: self._round != mine, timeout=10):
            self._round_waiting -= 1
            self.short_rounds += 1

    # ---- serving -----------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        raise NotImplementedError

    def failure_reply(self, failure: Failure, request: Request) -> Reply:
        return Reply(failure.status, failure.error if failure.error is not None else "error")

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self._await_round()
        h.counted = True  # type: ignore[attr-defined]
        try:
            self._serve_counted(h)
        finally:
            self._served(h)

    def _served(self, h: BaseHTTPRequestHandler) -> None:
        """No longer in flight: before the answer is written, so that a client sending
        its next request on the answer never seems to have one more out."""
        if getattr(h, "counted", False):
            h.counted = False  # type: ignore[attr-defined]
            with self._lock:
                self.in_flight -= 1

    def _serve_counted(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length)
        if len(body) < length:
            # The client died mid-request (killed between its headers and its body): like
            # any HTTP server, the vendor never acts on a request that did not arrive whole.
            h.close_connection = True
            with self._lock:
                self.truncated += 1
            return
        request = Request(h.command, h.path, {k.lower(): v for k, v in h.headers.items()}, body)
        with self._lock:
            self.requests.append(request)
            self.connections.add(h.client_address)
            failure = self._failures.pop(0) if self._failures else None
            self.failures += failure is not None
            drop, hang = self._drops != 0 and failure is None, self._drops < 0
            delay = self._delays.pop(0) if self._delays and failure is None else 0.0
            if drop and self._drop_after:
                self._drop_after, drop = self._drop_after - 1, False
            elif drop:
                self._drops += 1 if hang else -1
        if drop:
            self.handle(request)  # acted on: the vendor has the message
            self.dropped += 1
            self.accepted.set()
            if hang:
                self._release.wait(30)
            h.close_connection = True
            return
        if failure is not None and failure.hang:
            self._release.wait(5)  # the client times out first
            return
        reply = self.failure_reply(failure, request) if failure else self.handle(request)
        if delay:
            self.accepted.set()
            self._release.wait(delay)
        if failure is not None and failure.retry_after is not None:
            reply.headers["Retry-After"] = str(int(failure.retry_after))
        self._served(h)
        self._write(h, reply)

    @staticmethod
    def _write(h: BaseHTTPRequestHandler, reply: Reply) -> None:
        if isinstance(reply.body, dict | list):
            data, ctype = json.dumps(reply.body).encode(), "application/json; charset=utf-8"
        else:
            data, ctype = str(reply.body or "").encode(), "text/plain; charset=utf-8"
        h.send_response(reply.status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        for k, v in reply.headers.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

"""A real HTTP server on 127.0.0.1 serving status-feed documents the test changes at will.

It answers conditional GETs like a CDN in front of a status page: a strong ETag
per document version and 304 when If-None-Match matches. Made here for tests and
benchmarks.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def send_document(
    handler: BaseHTTPRequestHandler, code: int, body: bytes, ctype: str, etag: str | None
) -> None:
    """One response with a length, an optional ETag, and the body unless it is empty."""
    handler.send_response(code)
    handler.send_header("Content-Type", ctype)
    if etag:
        handler.send_header("ETag", etag)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if body:
        handler.wfile.write(body)


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:16] + '"'


class QuietServer(ThreadingHTTPServer):
    """A client that hangs up early (the fetcher stops at its size cap or deadline, a
    check gives up on a slow feed) is normal here, not a server error to print: its
    traceback on stderr would land in the output a CLI test compares."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class FeedServer:
    def __init__(self) -> None:
        self.documents: dict[str, tuple[bytes, str]] = {}
        self.hits: dict[str, int] = {}
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def put(self, path: str, body: bytes, content_type: str = "application/json") -> str:
        """Serve `body` at `path` from now on; returns its ETag."""
        with self.lock:
            self.documents[path] = (body, content_type)
        return etag_of(body)

    def served(self, path: str, etag: str, status: int) -> None:
        """Called as each answer starts (before its body is written), outside the lock;
        subclasses record what they need."""

    def url(self, path: str) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{path}"

    def start(self) -> FeedServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; Nagle would hold the body ~40 ms.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                with owner.lock:
                    owner.hits[self.path] = owner.hits.get(self.path, 0) + 1
                    doc = owner.documents.get(self.path)
                if doc is None:
                    self._send(404, b"not found", "text/plain", None)
                    return
                body, ctype = doc
                etag = etag_of(body)
                status = 304 if self.headers.get("If-None-Match") == etag else 200
                # Stamped as the answer starts, not after it is written: a thread preempted
                # between the two stamped the fetch after the alert it caused had arrived.
                owner.served(self.path, etag, status)
                self._send(status, body, ctype, etag)

            def _send(self, code: int, body: bytes, ctype: str, etag: str | None) -> None:
                send_document(self, code, body if code != 304 else b"", ctype, etag)

            def log_message(self, *args: object) -> None:
                pass

        self._server = QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@contextmanager
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    try:
        yield server
    finally:
        server.stop()

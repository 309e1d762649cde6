"""slack-sdk's WebClient with kept-alive HTTP connections.

The SDK's sync client sends every call through `urllib.request.urlopen`, which
opens a new connection (a TCP and TLS handshake with slack.com) each time. A
fan-out posts hundreds of messages, so this client keeps one connection per host
(and per thread and process) and reuses it. It replaces only the SDK's transport
method, `_perform_urllib_http_request_internal` (slack-sdk is pinned; the tests
run the real client against a fake that counts connections). Request building,
errors and rate-limit handling stay the SDK's: a non-2xx answer is raised as the
same `HTTPError` urllib would raise, and a network failure as a `URLError`.

A request is never re-sent on a fresh connection after a failure: the vendor may
have acted on it. The task layer retries, and the alert's dedup keeps that safe.
"""

from __future__ import annotations

import http.client
import io
import os
import select
import ssl
import threading
import time
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request

from slack_sdk import WebClient

# Reuse a connection only while it is fresher than this: servers and load balancers
# close idle ones (often after 60 s), and a request sent into a closing connection fails.
IDLE_REUSE_S = 20.0


class _Connections(threading.local):
    def __init__(self) -> None:
        self.by_origin: dict[tuple[int, str, str], tuple[http.client.HTTPConnection, float]] = {}


class KeepAliveWebClient(WebClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connections = _Connections()

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        parts = urlsplit(url)
        if self.proxy is not None or parts.scheme.lower() not in ("http", "https"):
            return super()._perform_urllib_http_request_internal(url, req)
        origin = (os.getpid(), parts.scheme.lower(), parts.netloc)
        conn = self._connection(origin, parts.hostname or "", parts.port)
        target = parts.path or "/"
        if parts.query:
            target += f"?{parts.query}"
        data = req.data if isinstance(req.data, bytes) else None
        try:
            conn.request("POST", target, body=data, headers=dict(req.header_items()))
            resp = conn.getresponse()
            body = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise URLError(exc) from exc
        if not resp.will_close:  # else http.client has handed the socket to `resp`
            self._connections.by_origin[origin] = (conn, time.monotonic())
        if not 200 <= resp.status < 300:
            raise HTTPError(url, resp.status, resp.reason, resp.headers, io.BytesIO(body))
        if resp.headers.get_content_type() == "application/gzip":
            return {"status": resp.status, "headers": resp.headers, "body": body}
        charset = resp.headers.get_content_charset() or "utf-8"
        return {"status": resp.status, "headers": resp.headers, "body": body.decode(charset)}

    def _connection(
        self, origin: tuple[int, str, str], host: str, port: int | None
    ) -> http.client.HTTPConnection:
        kept = self._connections.by_origin.pop(origin, None)
        if kept is not None:
            conn, last_used = kept
            if time.monotonic() - last_used < IDLE_REUSE_S and not _dropped(conn):
                return conn
            conn.close()
        timeout = self.timeout
        if origin[1] == "https":
            context = self.ssl if isinstance(self.ssl, ssl.SSLContext) else None
            return http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
        return http.client.HTTPConnection(host, port, timeout=timeout)


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """The server closed the idle connection (it reads as EOF), as urllib3 checks."""
    if conn.sock is None:
        return True
    readable, _, _ = select.select([conn.sock], [], [], 0)
    return bool(readable)

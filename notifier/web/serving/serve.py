"""Serving the app with uvicorn: on a socket bound up front (so a taken port is one
clear error before anything else starts, and port 0 works), in a thread of its own (so
`notifier run` keeps answering /healthz whatever happens to its children).

A client gets `header_timeout` seconds to send its request line and headers, and
NOTIFIER_WEB_READ_TIMEOUT for its body (`notifier.web.serving.limits`); idle keep-alive
connections close after 5 s. Malformed HTTP gets 400 and a warning from uvicorn.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_S = 10.0


class _TimedH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing a connection whose request does not begin
    in time: a client that trickles its headers holds no slot for long."""

    header_timeout = HEADER_TIMEOUT_S

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not None:
            self._deadline.cancel()

    def connection_lost(self, exc: Exception | None) -> None:
        self._deadline.cancel()
        super().connection_lost(exc)

    def _too_slow(self) -> None:
        if self.cycle is None and not self.transport.is_closing():
            self.transport.close()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; raises OSError when the port is taken or the address foreign."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(False)  # children must not hold our port open after we exit
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def server(app: ASGIApp, header_timeout: float = HEADER_TIMEOUT_S) -> uvicorn.Server:
    protocol: Any = type("TimedH11", (_TimedH11,), {"header_timeout": header_timeout})
    config = uvicorn.Config(
        app,
        http=protocol,
        loop="asyncio",
        lifespan="on",
        log_config=None,  # ours (notifier.logs); uvicorn's loggers propagate to it
        access_log=False,
        timeout_keep_alive=5,
        h11_max_incomplete_event_size=16 * 1024,
        limit_concurrency=200,
        server_header=False,
    )
    return uvicorn.Server(config)


class WebThread:
    """uvicorn in a daemon thread; `stop()` ends it gracefully."""

    def __init__(self, app: ASGIApp, sock: socket.socket, header_timeout: float = HEADER_TIMEOUT_S):
        self.sock = sock
        self.server = server(app, header_timeout)
        self.thread = threading.Thread(target=self._run, name="web", daemon=True)

    def _run(self) -> None:
        self.server.run(sockets=[self.sock])

    def start(self, timeout: float = 10.0) -> WebThread:
        self.thread.start()
        deadline = threading.Event()
        for _ in range(int(timeout / 0.02)):
            if self.server.started or not self.thread.is_alive():
                break
            deadline.wait(0.02)
        if not self.server.started:
            raise RuntimeError("the web server did not start")
        return self

    @property
    def url(self) -> str:
        return url_of(self.sock)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()

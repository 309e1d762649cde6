"""Bounded requests: a body larger than `max_bytes` gets 413, one that takes longer than
`read_timeout` seconds to arrive gets 408, a Content-Length that is not a number gets
400; each is logged. The body is read whole here (they are small: a Twilio form), so a
route never waits on a slow client, and the event loop serves others meanwhile."""

from __future__ import annotations

import logging

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from notifier.web.serving.plaintext import send_text

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


class BoundedBody:
    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = MAX_BODY,
        read_timeout: float = 10.0,
        label: str | None = None,
    ) -> None:
        self.app, self.max_bytes, self.read_timeout = app, max_bytes, read_timeout
        self.label = label  # logged instead of the path (a path may carry a secret)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = self.label or f"{scope['method']} {scope['path']}"
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.strip().isdigit() or len(length) > 18):
            log.warning("bad request %s: Content-Length is not a number", where)
            await send_text(send, 400, "bad request\n")
            return
        if length is not None and int(length) > self.max_bytes:
            log.warning("rejected %s: body of %s bytes is over %d", where, int(length),
                        self.max_bytes)  # fmt: skip
            await send_text(send, 413, "too large\n")
            return
        body = bytearray()
        try:
            with anyio.fail_after(self.read_timeout):
                more = True
                while more:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    body += message.get("body", b"")
                    if len(body) > self.max_bytes:
                        log.warning("rejected %s: body over %d bytes", where, self.max_bytes)
                        await send_text(send, 413, "too large\n")
                        return
                    more = message.get("more_body", False)
        except TimeoutError:
            log.warning("rejected %s: body not received within %.0f s", where,
                        self.read_timeout)  # fmt: skip
            await send_text(send, 408, "request timeout\n")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()  # after the body: the disconnect, when it comes

        await self.app(scope, replay, send)

"""Failed credentials, limited per client: guessing the web token, a webhook token or a
signing secret costs time.

Every answer that refuses a credential counts as a strike against the client's address:
401 (the web token, a Slack signature), 403 (a Twilio signature, a cross-site form) and
404 under /hooks/statuspage/ (a wrong webhook token). Each address has a bucket of
`burst` strikes that refills at `refill_s` seconds a strike (a token bucket). While it
is empty, every request from that address but /healthz gets 429 with Retry-After, and
no route runs. Good requests cost nothing, so a client that gets its credentials right
never notices.

In-process: each `notifier web` keeps its own count. Behind a reverse proxy every client
shares the proxy's address, so a flood of bad attempts there slows good ones too; the
proxy's own limits are the place for per-client limits then.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from notifier.web.serving.plaintext import send_text

BURST = 10
REFILL_S = 6.0  # one strike back every 6 s: 10 a minute, sustained
MAX_CLIENTS = 10_000  # addresses remembered at once; full buckets are forgotten first
EXEMPT = frozenset({"/healthz"})


def _strike(path: str, status: int) -> bool:
    return status in (401, 403) or (status == 404 and path.startswith("/hooks/statuspage/"))


@dataclass
class _Bucket:
    level: float
    at: float


class Strikes:
    """Per-address token buckets of failed attempts. Thread-safe; the clock is injected."""

    def __init__(self, burst: int = BURST, refill_s: float = REFILL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.burst, self.refill_s, self.clock = burst, refill_s, clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def _level(self, client: str, now: float) -> float:
        b = self._buckets.get(client)
        if b is None:
            return float(self.burst)
        return min(float(self.burst), b.level + (now - b.at) / self.refill_s)

    def wait(self, client: str) -> float:
        """Seconds until `client` may try again; 0 when it may now."""
        with self._lock:
            level = self._level(client, self.clock())
        return 0.0 if level >= 1 else (1 - level) * self.refill_s

    def strike(self, client: str) -> None:
        with self._lock:
            now = self.clock()
            level = max(0.0, self._level(client, now) - 1)
            if client not in self._buckets and len(self._buckets) >= MAX_CLIENTS:
                self._forget(now)
            self._buckets[client] = _Bucket(level, now)

    def _forget(self, now: float) -> None:
        full = [c for c in self._buckets if self._level(c, now) >= self.burst]
        for c in full or list(self._buckets)[: MAX_CLIENTS // 10]:
            del self._buckets[c]


class LimitFailures:
    """ASGI middleware: 429 while the client's strikes are used up; counts new ones."""

    def __init__(self, app: ASGIApp, strikes: Strikes | None = None) -> None:
        self.app, self.strikes = app, strikes or Strikes()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT:
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = self.strikes.wait(client)
        if wait > 0:
            await send_text(send, 429, "too many failed attempts; try again later\n",
                            [(b"retry-after", str(math.ceil(wait)).encode())])  # fmt: skip
            return

        async def counting(message: Message) -> None:
            if message["type"] == "http.response.start" and _strike(
                scope["path"], message["status"]
            ):
                self.strikes.strike(client)
            await send(message)

        await self.app(scope, receive, counting)

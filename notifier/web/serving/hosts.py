"""Only our own Host: the defence against DNS rebinding.

A page on `rebind.attacker.example` can make its name resolve to 127.0.0.1 and then
talk to the console from the victim's browser, with its Origin and Host both naming
itself, so the origin check (`notifier.web.serving.origin`) alone passes it. The Host
header is what gives it away: the server answers only the names it knows, which are

- loopback: `localhost`, `127.0.0.1`, `[::1]` (any port);
- the bind address, when it is a concrete address (not 0.0.0.0 or ::);
- the host of NOTIFIER_WEB_PUBLIC_URL, the URL the service is reached by.

Any other Host (or none) gets 421 Misdirected Request with an empty body, before any
route runs: not a page, not /metrics, not a webhook.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from notifier.text import one_line

log = logging.getLogger(__name__)

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"", "0.0.0.0", "::"})
MAX_LOGGED = 100  # a distinct bad Host is logged at most this many times per process


def host_of(url: str | None) -> str | None:
    """The host name of a URL, lower case, without brackets or port; None if it has none."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.lower() if host else None


def known_hosts(bind_host: str | None, public_url: str | None) -> frozenset[str]:
    names = set(LOOPBACK)
    bound = (bind_host or "").strip("[]").lower()
    if bound not in WILDCARDS:
        names.add(bound)
    public = host_of(public_url)
    if public:
        names.add(public)
    return frozenset(names)


def requested_host(header: str) -> str:
    """`Example.COM:8080` → `example.com`; `[::1]:80` → `::1`; '' when unreadable."""
    header = header.strip().lower()
    if header.startswith("["):
        inside, bracket, _ = header[1:].partition("]")
        return inside if bracket else ""
    name = header.rsplit(":", 1)[0] if header.count(":") == 1 else header
    try:  # a bare IPv6 address without brackets is not a valid Host; refuse it
        if ":" in name and ipaddress.ip_address(name):
            return ""
    except ValueError:
        return ""
    return name.rstrip(".")


class KnownHosts:
    """ASGI middleware: 421 with no body for a request whose Host is not ours."""

    def __init__(self, app: ASGIApp, names: Iterable[str]) -> None:
        self.app, self.names = app, frozenset(names)
        self._logged: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        if requested_host(header) in self.names:
            await self.app(scope, receive, send)
            return
        shown = one_line(header)[:80]
        if shown not in self._logged and len(self._logged) < MAX_LOGGED:
            self._logged.add(shown)
            log.warning("refused a request for Host %r: not a name of this service (set "
                        "NOTIFIER_WEB_PUBLIC_URL to the URL it is reached by)", shown)  # fmt: skip
        await send({"type": "http.response.start", "status": 421,
                    "headers": [(b"content-length", b"0")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b""})

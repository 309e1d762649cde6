"""Who may see the pages: everyone on loopback, else only holders of NOTIFIER_WEB_TOKEN.

The token is accepted as `Authorization: Bearer <token>` or as the password of HTTP
basic auth (any user name), compared in constant time. `/healthz` (probes must reach
it) and the Twilio and Slack webhooks (they carry their own signatures) stay open.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress

from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send

from notifier.web.serving.plaintext import send_text

OPEN_PATHS = frozenset({"/healthz", "/twilio/sms", "/hooks/slack/interactivity"})


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def refusal(host: str, token: SecretStr | None) -> str | None:
    """Why the web endpoint must not start on `host`, or None when it may."""
    if is_loopback(host) or (token is not None and token.get_secret_value()):
        return None
    return (
        f"refusing to listen on {host} without NOTIFIER_WEB_TOKEN: anyone who reaches it "
        "could read /metrics. Set NOTIFIER_WEB_TOKEN, or bind to 127.0.0.1"
    )


def presented(authorization: str) -> str | None:
    """The token an Authorization header carries, bearer or basic; None if neither."""
    scheme, _, value = authorization.partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer":
        return value
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2]
    return None


class RequireToken:
    """ASGI middleware: 401 for any request to a closed path without the token."""

    def __init__(self, app: ASGIApp, token: SecretStr | None) -> None:
        self.app = app
        value = token.get_secret_value() if token is not None else ""
        self._token = value.encode() if value else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._token is None or scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        given = presented(headers.get(b"authorization", b"").decode("latin-1"))
        if given is not None and hmac.compare_digest(given.encode(), self._token):
            await self.app(scope, receive, send)
            return
        await send_text(send, 401, "authentication required\n",
                        [(b"www-authenticate", b'Basic realm="notifier"')])  # fmt: skip

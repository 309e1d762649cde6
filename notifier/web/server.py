"""`notifier web`: the Twilio SMS webhook (page acks), /healthz and /metrics.

  POST /twilio/sms  Twilio's inbound-SMS webhook. The `X-Twilio-Signature` is
                    checked with twilio's RequestValidator against the auth token
                    and `public_url + path`; a missing or wrong signature gets 403
                    and changes nothing. A good one is parsed as an ack (`4 K7`,
                    `ACK K7`) and answered with TwiML.
  GET  /healthz     200 when Redis answers a PING, else 503.
  GET  /metrics     Prometheus text from `notifier.store.metrics`.

A stdlib ThreadingHTTPServer: no framework, a handful of routes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import redis
from pydantic import SecretStr
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from notifier.channels.sms.paging import Pager
from notifier.config.settings import Settings
from notifier.store.metrics import render

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = TEXT


def _utcnow() -> datetime:
    return datetime.now(UTC)


class WebApp:
    """The routes, independent of the HTTP server so tests can drive either."""

    def __init__(
        self,
        client: redis.Redis,
        pager: Pager | None,
        auth_token: SecretStr | None,
        public_url: str | None,
        metrics: Callable[[], bytes] | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.client, self.pager = client, pager
        self._validator = RequestValidator(auth_token.get_secret_value()) if auth_token else None
        self.public_url = (public_url or "").rstrip("/")
        self.metrics, self.clock = metrics, clock

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        path = urlsplit(target).path
        if path == "/healthz" and method in ("GET", "HEAD"):
            return self.healthz()
        if path == "/metrics" and method == "GET":
            return self.render_metrics()
        if path == "/twilio/sms":
            if method != "POST":
                return Response(405, b"method not allowed\n")
            return self.twilio_sms(target, headers, body)
        return Response(404, b"not found\n")

    def healthz(self) -> Response:
        try:
            ok = bool(self.client.ping())
        except (redis.RedisError, OSError):
            ok = False
        return Response(200, b"ok\n") if ok else Response(503, b"redis unavailable\n")

    def render_metrics(self) -> Response:
        if self.metrics is None:
            return Response(404, b"metrics not configured\n")
        try:
            data = self.metrics()
        except (redis.RedisError, OSError):
            return Response(503, b"redis unavailable\n")
        return Response(200, data, "text/plain; version=0.0.4; charset=utf-8")

    def twilio_sms(self, target: str, headers: dict[str, str], body: bytes) -> Response:
        params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        signature = headers.get("x-twilio-signature", "")
        if not self._signed(target, params, signature):
            log.warning("rejected /twilio/sms: bad or missing signature")
            return Response(403, b"forbidden\n")
        if self.pager is None:
            return _twiml("Paging is not configured.")
        result = self.pager.ack(params.get("From", ""), params.get("Body", ""), self.clock())
        return _twiml(result.reply)

    def _signed(self, target: str, params: dict[str, str], signature: str) -> bool:
        if self._validator is None or not self.public_url or not signature:
            return False
        return bool(self._validator.validate(self.public_url + target, params, signature))


def _twiml(text: str) -> Response:
    reply = MessagingResponse()
    reply.message(text)
    return Response(200, str(reply).encode(), "application/xml")


def make_server(app: WebApp, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        server_version = "notifier"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(Response(413, b"too large\n"))
                return
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            self._send(app.handle(self.command, self.path, headers, body))

        do_GET = do_POST = do_HEAD = _serve

        def _send(self, response: Response) -> None:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("%s %s", self.address_string(), format % args)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def build_app(settings: Settings, client: redis.Redis, pager: Pager | None) -> WebApp:
    """The app for `notifier web`, from settings."""

    def metrics() -> bytes:
        return render(client, settings.key_prefix, settings.broker_prefix)

    return WebApp(client, pager, settings.twilio_auth_token, settings.public_url, metrics)

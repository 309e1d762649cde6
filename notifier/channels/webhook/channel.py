"""A generic webhook: each alert POSTed as JSON that a receiver can verify.

`webhook: {url: …, secret_env: …}`. The body is `payload(alert)` (documented in the
user docs, `version: 1`). When `secret_env` names a key, every request carries

  X-Notifier-Timestamp: <unix seconds>
  X-Notifier-Signature: v1=<hex HMAC-SHA256(key, "<timestamp>.<body>")>

so the receiver recomputes the HMAC over the raw body, compares in constant time, and
refuses a timestamp older than a few minutes (a replay). The URL may hold a token of
its own: it is a secret, never printed. 2xx is sent; 429, 408 and 5xx retry; any
other 4xx is permanent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from notifier.channels.base import Channel, DeliveryError, SendResult, Target
from notifier.channels.httpjson import client, env_named, post_json
from notifier.channels.render import Presentation, incident_key, latest_body, notes, truncate
from notifier.config.schema.subscribers import Subscriber
from notifier.models import Alert, iso
from notifier.text import clean, one_line

VERSION = 1
BODY_MAX = 20_000
TITLE_MAX = 500


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    url: SecretStr
    secret_env: str | None = None

    @property
    def id(self) -> str:
        # The URL may carry a token: identify it by a digest, not the URL.
        return "url:" + hashlib.sha256(self.url.get_secret_value().encode()).hexdigest()[:12]


def payload(alert: Alert, p: Presentation) -> dict[str, Any]:
    """The documented JSON body (version 1). Feed text is cleaned of control characters;
    JSON encoding keeps it inert."""
    inc, ev = alert.event.incident, alert.event
    update = ev.update
    return {
        "version": VERSION,
        "kind": alert.kind.value,
        "event": ev.kind.value,
        "dedup_key": alert.dedup_key,
        "incident_key": incident_key(inc.provider, inc.id, 255),
        "subscriber": alert.subscriber,
        "page": alert.page,
        "provider": {"id": inc.provider, "name": p.provider_name(inc.provider)},
        "incident": {
            "id": inc.id, "title": truncate(one_line(inc.title), TITLE_MAX),
            "url": p.url_for(inc), "status": inc.status.value, "impact": inc.impact.value,
            "components": [one_line(c) for c in inc.components],
            "regions": [one_line(r) for r in inc.regions],
            "started_at": iso(inc.started_at), "resolved_at": iso(inc.resolved_at),
        },
        "update": None if update is None else {
            "at": iso(update.at), "status": update.status.value,
            "body": truncate(clean(update.body), BODY_MAX),
        },
        "text": truncate(latest_body(alert), BODY_MAX),
        "annotations": notes(alert, p),
        "detected_at": iso(ev.detected_at),
    }  # fmt: skip


def signature(key: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"v1={digest.hexdigest()}"


class WebhookChannel(Channel):
    name: ClassVar[str] = "webhook"
    label: ClassVar[str] = "webhook"
    body_maxlen: ClassVar[int] = BODY_MAX
    title_maxlen: ClassVar[int] = TITLE_MAX
    pauses_per_target: ClassVar[bool] = True

    def __init__(self, presentation: Presentation | None = None,
                 clock: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.presentation = presentation or Presentation()
        self.clock = clock
        self._http: httpx.Client | None = None

    def targets(self, subscriber: Subscriber) -> list[Target]:
        route = subscriber.webhook
        return [WebhookTarget(route.url, route.secret_env)] if route is not None else []

    def send(self, alert: Alert, target: Target, thread_ref: str | None) -> SendResult:
        if not isinstance(target, WebhookTarget):
            raise DeliveryError("webhook: wrong target type", permanent=True)
        key = ""
        if target.secret_env is not None:
            key = os.environ.get(target.secret_env, "")
            if not key:
                said = env_named(target.secret_env)
                raise DeliveryError(f"webhook: {said} is not set", permanent=True)
        body = json.dumps(payload(alert, self.presentation), ensure_ascii=False).encode()
        timestamp = str(int(self.clock()))
        headers = {"X-Notifier-Timestamp": timestamp, "X-Notifier-Event": alert.event.kind.value}
        if key:
            headers["X-Notifier-Signature"] = signature(key, timestamp, body)
        if self._http is None:
            self._http = client()
        url = target.url.get_secret_value()
        response = post_json(self._http, url, body, "webhook", headers=headers,
                             secrets=(url, key) if key else (url,))  # fmt: skip
        return SendResult(message_id=f"webhook:{response.status_code}:{alert.dedup_key}")

    def __repr__(self) -> str:
        return "WebhookChannel()"

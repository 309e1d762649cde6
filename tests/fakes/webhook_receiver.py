"""A receiver of signed webhooks, made here: it verifies `X-Notifier-Signature` over
`<timestamp>.<raw body>` with its key, as a user's receiver would (401 when wrong or
missing), checks the documented JSON fields, and records what it accepted. Also
stands in for any JSON endpoint apprise posts to (`json://`), when given no key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from tests.fakes.server import FakeServer, Reply, Request

FIELDS = {"version", "kind", "event", "dedup_key", "incident_key", "subscriber", "page", "provider",
          "incident", "update", "text", "annotations", "detected_at"}  # fmt: skip


class FakeWebhookReceiver(FakeServer):
    def __init__(self, key: str | None = "whsec-fake-0123456789", check_fields: bool = True):
        super().__init__()
        self.key = key
        self.check_fields = check_fields
        self.accepted: list[dict[str, Any]] = []

    def handle(self, request: Request) -> Reply:
        if self.key is not None:
            ts = request.headers.get("x-notifier-timestamp", "")
            mac = hmac.new(self.key.encode(), ts.encode() + b"." + request.body, hashlib.sha256)
            given = request.headers.get("x-notifier-signature", "")
            if not ts or not hmac.compare_digest(given, f"v1={mac.hexdigest()}"):
                return Reply(401, {"error": "bad signature"})
        try:
            body = json.loads(request.body)
        except ValueError:
            return Reply(400, {"error": "not JSON"})
        if self.check_fields and set(body) != FIELDS:
            return Reply(422, {"error": f"unexpected fields {sorted(set(body) ^ FIELDS)}"})
        self.accepted.append(body)
        return Reply(200, {"ok": True})

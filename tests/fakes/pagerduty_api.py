"""A fake PagerDuty Events API v2 (`POST /v2/enqueue`), made here.

It checks each event the way PagerDuty documents it (routing key, action, dedup_key of
at most 255 characters, a trigger's summary, source and severity) and answers 400
`Invalid event` when one is wrong, else 202 with the dedup key. It keeps one alert per
dedup key with its state, as PagerDuty does: a second trigger updates it.
"""

from __future__ import annotations

import json
from typing import Any

from tests.fakes.server import Failure, FakeServer, Reply, Request

SEVERITIES = {"critical", "error", "warning", "info"}


class FakePagerDuty(FakeServer):
    def __init__(self, routing_key: str = "R0UTINGKEYfake000000000000000000") -> None:
        super().__init__()
        self.routing_key = routing_key
        self.events: list[dict[str, Any]] = []  # every accepted event, in order
        self.alerts: dict[str, str] = {}  # dedup_key -> "triggered" | "resolved"

    def failure_reply(self, failure: Failure, request: Request) -> Reply:
        body = failure.error or {"status": "error", "message": f"failure {failure.status}"}
        return Reply(failure.status, body)

    def handle(self, request: Request) -> Reply:
        if request.path != "/v2/enqueue":
            return Reply(404, {"status": "error", "message": "Not found"})
        try:
            event = json.loads(request.body)
        except ValueError:
            return Reply(400, {"status": "invalid event", "message": "Event object is invalid"})
        problem = self._invalid(event)
        if problem:
            return Reply(400, {"status": "invalid event", "message": "Event object is invalid",
                               "errors": [problem]})  # fmt: skip
        self.events.append(event)
        key = event["dedup_key"]
        self.alerts[key] = "resolved" if event["event_action"] == "resolve" else "triggered"
        return Reply(202, {"status": "success", "message": "Event processed", "dedup_key": key})

    def _invalid(self, event: dict[str, Any]) -> str | None:
        if event.get("routing_key") != self.routing_key:
            return "'routing_key' is invalid"
        action = event.get("event_action")
        if action not in ("trigger", "acknowledge", "resolve"):
            return "'event_action' is invalid"
        key = event.get("dedup_key")
        if not isinstance(key, str) or not key or len(key) > 255:
            return "'dedup_key' must be 1 to 255 characters"
        if action != "trigger":
            return None
        payload = event.get("payload") or {}
        if not payload.get("summary") or len(payload["summary"]) > 1024:
            return "'payload.summary' is missing or longer than 1024"
        if not payload.get("source"):
            return "'payload.source' is missing"
        if payload.get("severity") not in SEVERITIES:
            return "'payload.severity' is invalid"
        return None

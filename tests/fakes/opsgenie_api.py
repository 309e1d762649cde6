"""A fake Opsgenie Alerts API (`POST /v2/alerts`, `POST /v2/alerts/{alias}/close`), made here.

Checks the `GenieKey` authorization (401 otherwise), the create body (message ≤ 130,
alias ≤ 512, priority P1-P5; 422 otherwise) and that a close names its alias; answers
202 with a request id. Keeps one alert per alias, as Opsgenie de-duplicates on it.
"""

from __future__ import annotations

import itertools
import json
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fakes.server import Failure, FakeServer, Reply, Request


class FakeOpsgenie(FakeServer):
    def __init__(self, api_key: str = "0a1b2c3d-fake-genie-key-000000000000") -> None:
        super().__init__()
        self.api_key = api_key
        self.created: list[dict[str, Any]] = []
        self.closed: list[str] = []
        self.alerts: dict[str, str] = {}  # alias -> "open" | "closed"
        self._ids = itertools.count(1)

    def failure_reply(self, failure: Failure, request: Request) -> Reply:
        error = {"message": f"failure {failure.status}", "took": 0.001, "requestId": "x"}
        return Reply(failure.status, failure.error or error)

    def handle(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"GenieKey {self.api_key}":
            return Reply(401, {"message": "Could not authenticate", "took": 0.0})
        parts = urlsplit(request.path)
        body = json.loads(request.body or b"{}")
        if parts.path == "/v2/alerts":
            problem = self._invalid(body)
            if problem:
                return Reply(422, {"message": problem, "took": 0.0})
            self.created.append(body)
            self.alerts[body["alias"]] = "open"
        elif parts.path.startswith("/v2/alerts/") and parts.path.endswith("/close"):
            if parse_qs(parts.query).get("identifierType") != ["alias"]:
                return Reply(422, {"message": "identifierType must be alias here", "took": 0.0})
            alias = unquote(parts.path.removeprefix("/v2/alerts/").removesuffix("/close"))
            self.closed.append(alias)
            self.alerts[alias] = "closed"
        else:
            return Reply(404, {"message": "Not found", "took": 0.0})
        return Reply(202, {"result": "Request will be processed", "took": 0.01,
                           "requestId": f"req-{next(self._ids)}"})  # fmt: skip

    @staticmethod
    def _invalid(body: dict[str, Any]) -> str | None:
        message = body.get("message")
        if not isinstance(message, str) or not message or len(message) > 130:
            return "Message can not be empty or longer than 130 characters"
        alias = body.get("alias")
        if alias is not None and (not isinstance(alias, str) or len(alias) > 512):
            return "Alias can not be longer than 512 characters"
        if body.get("priority", "P3") not in ("P1", "P2", "P3", "P4", "P5"):
            return "Priority should be one of [P1, P2, P3, P4, P5]"
        if len(body.get("description", "")) > 15000:
            return "Description can not be longer than 15000 characters"
        return None

"""A fake Twilio REST API for Messages (made here).

`POST /2010-04-01/Accounts/<sid>/Messages.json` with HTTP basic auth and a form
body (To, From, Body) answers 201 with Twilio-shaped JSON (`sid`, `status`, ...);
errors look like Twilio's: `{"code": 21211, "message": ..., "more_info": ...,
"status": 400}`.

    twilio = FakeTwilio(account_sid="AC...", auth_token="...").start()
    twilio.url                             # base URL for SmsChannel(api_url=...)
    twilio.fail_next(1, status=400, error=21211)
    twilio.sent                            # [{"To":..., "From":..., "Body":...}, ...]
"""

from __future__ import annotations

import base64
import itertools
from typing import Any

from tests.fakes.server import Failure, FakeServer, Reply, Request

MESSAGES = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    21211: "The 'To' number is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}


class FakeTwilio(FakeServer):
    def __init__(
        self, account_sid: str = "AC" + "0" * 30 + "1", auth_token: str = "twilio-auth-token-5678"
    ) -> None:
        super().__init__()
        self.account_sid, self.auth_token = account_sid, auth_token
        self.sent: list[dict[str, str]] = []
        self._ids = itertools.count(1)

    def to(self, number: str) -> list[str]:
        return [m["Body"] for m in self.sent if m["To"] == number]

    @staticmethod
    def error_body(status: int, code: int | None) -> dict[str, Any]:
        return {
            "code": code,
            "message": MESSAGES.get(code or 0, "Error"),
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }

    def failure_reply(self, failure: Failure, request: Request) -> Reply:
        code = failure.error if isinstance(failure.error, int) else None
        return Reply(failure.status, self.error_body(failure.status, code))

    def handle(self, request: Request) -> Reply:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return Reply(401, self.error_body(401, 20003))
        if request.path != f"/2010-04-01/Accounts/{self.account_sid}/Messages.json":
            return Reply(404, self.error_body(404, 20404))
        form = request.form()
        self.sent.append(form)
        sid = f"SM{next(self._ids):032x}"
        body = {
            "sid": sid, "account_sid": self.account_sid, "to": form.get("To"),
            "from": form.get("From"), "body": form.get("Body"), "status": "queued",
            "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }  # fmt: skip
        return Reply(201, body)

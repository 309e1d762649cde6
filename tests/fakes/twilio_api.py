"""A fake Twilio REST API for Messages (made here).

`POST /2010-04-01/Accounts/<sid>/Messages.json` with HTTP basic auth and a form
body (To, From, Body) answers 201 with Twilio-shaped JSON (`sid`, `status`, ...);
errors look like Twilio's: `{"code": 21211, "message": ..., "more_info": ...,
"status": 400}`.

    twilio = FakeTwilio(account_sid="AC...", auth_token="...").start()
    twilio.url                             # base URL for SmsChannel(api_url=...)
    twilio.fail_next(1, status=400, error=21211)
    twilio.sent                            # [{"To":..., "From":..., "Body":...}, ...]
    twilio.accept_then_drop(1)             # sent, then the connection drops unanswered

`GET .../Messages.json?To=&From=&DateSent>=&PageSize=` lists sent messages, newest
first, in Twilio's page shape (`messages`, `next_page_uri`, `page_size`, ...), each
with RFC 2822 `date_created` / `date_sent` (the fake sends at once).
"""

from __future__ import annotations

import base64
import itertools
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

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
        self._records: list[dict[str, Any]] = []  # what the list endpoint answers from
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
        url = urlsplit(request.path)
        if url.path != f"/2010-04-01/Accounts/{self.account_sid}/Messages.json":
            return Reply(404, self.error_body(404, 20404))
        if request.method == "GET":
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            return Reply(200, self._list(query))
        form = request.form()
        sid = f"SM{next(self._ids):032x}"
        now = format_datetime(datetime.now(UTC).replace(microsecond=0))
        body = {
            "sid": sid, "account_sid": self.account_sid, "to": form.get("To"),
            "from": form.get("From"), "body": form.get("Body"), "status": "queued",
            "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
            "date_created": now, "date_sent": now, "date_updated": now,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }  # fmt: skip
        self.sent.append(form)
        self._records.append(body)
        return Reply(201, body)

    def _list(self, query: dict[str, str]) -> dict[str, Any]:
        after = query.get("DateSent>")
        since = datetime.fromisoformat(after.replace("Z", "+00:00")) if after else None
        found = [
            r for r in reversed(self._records)
            if query.get("To", r["to"]) == r["to"] and query.get("From", r["from"]) == r["from"]
            and (since is None or parsedate_to_datetime(r["date_sent"]) >= since)
        ]  # fmt: skip
        size = int(query.get("PageSize") or 50)
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        return {"messages": [{**r, "status": "sent"} for r in found[:size]],
                "page": 0, "page_size": size, "start": 0, "end": min(size, len(found)) - 1,
                "uri": uri, "first_page_uri": uri, "previous_page_uri": None,
                "next_page_uri": None}  # fmt: skip

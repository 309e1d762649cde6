"""A fake Slack Web API and incoming webhook speaking the real wire format (made here).

Web API: `POST /api/chat.postMessage` and `/api/chat.update` with a bearer token,
form or JSON bodies; answers `{"ok": true, "channel": "C…", "ts": "…"}` or
`{"ok": false, "error": "…"}` (HTTP 200, like Slack), 429 with Retry-After, 5xx.
`conversations.history` and `conversations.replies` answer from what was posted, in
Slack's shape (`messages` newest first, `has_more`, `response_metadata.next_cursor`),
with each message's `metadata` when `include_all_metadata` is set; they take channel
ids only (a `#name` is `channel_not_found`, as on Slack). `conversations.list` lists the
channels posted to by name (`{id, name}`), in pages.
Webhook: `POST /services/T…/B…/…` answering `ok` or a plain-text error code.

    slack = FakeSlack(token="xoxb-test").start()
    slack.url                     # http://127.0.0.1:PORT (the API answers here and under /api/)
    slack.api_url                 # url + "/api/", for WebClient(base_url=...)
    slack.webhook_url             # url + "/services/T000/B000/<secret>"
    slack.fail_next(1, status=200, error="channel_not_found")   # fail_next(0) heals
    slack.fail_post_containing("Identified", status=429, retry_after=1)  # once, that post only
    slack.messages                # successful chat.postMessage calls: the flattened params
                                  # plus "method", "body" (params), "response", "ts", "channel"
    slack.updates                 # successful chat.update calls
    slack.failures                # how many requests got an injected failure
    slack.accept_then_drop(1)     # the next request is acted on, then the connection drops
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from typing import Any

from tests.fakes.server import Failure, FakeServer, Reply, Request


class FakeSlack(FakeServer):
    def __init__(self, token: str | None = None, webhook_secret: str = "XyZsecret42") -> None:
        """With `token`, only that bearer token is accepted; without, any bearer token is
        (and `self.token` is a sample one to configure clients with)."""
        super().__init__()
        self.token = token or "xoxb-fake-token-1234"
        self.strict_token = token is not None
        self.webhook_secret = webhook_secret
        self.messages: list[dict[str, Any]] = []  # chat.postMessage calls that succeeded
        self.updates: list[dict[str, Any]] = []  # chat.update calls that succeeded
        self.webhook_posts: list[dict[str, Any]] = []
        self.current: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) -> message
        self._ts = itertools.count(1)
        self._mlock = threading.Lock()
        self._failing_posts: list[tuple[str, Failure]] = []  # (text it contains, failure)

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/services/T000/B000/{self.webhook_secret}"

    def thread(self, parent_ts: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("thread_ts") == parent_ts]

    def fail_post_containing(
        self, text: str, *, status: int = 429, error: Any = None, retry_after: float | None = None
    ) -> None:
        """Answer the next chat.postMessage whose text or blocks contain `text` with this
        failure, once; every other request is answered as usual (unlike `fail_next`,
        which fails whatever comes next, so concurrent senders cannot take the failure)."""
        with self._mlock:
            self._failing_posts.append((text, Failure(status, error, retry_after)))

    def _failing_post(self, request: Request) -> Failure | None:
        sent = str(request.params())
        with self._mlock:
            for i, (text, failure) in enumerate(self._failing_posts):
                if text in sent:
                    del self._failing_posts[i]
                    return failure
        return None

    # ---- replies -------------------------------------------------------------------

    def failure_reply(self, failure: Failure, request: Request) -> Reply:
        if request.path.startswith("/services/"):
            return Reply(failure.status, failure.error or "error")
        if failure.status == 200:
            return Reply(200, {"ok": False, "error": failure.error or "internal_error"})
        if failure.status == 429:
            return Reply(429, {"ok": False, "error": "ratelimited"})
        return Reply(failure.status, failure.error or "<html>upstream error</html>")

    def handle(self, request: Request) -> Reply:
        if request.path.startswith("/services/"):
            return self._webhook(request)
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer xox") or (
            self.strict_token and auth != f"Bearer {self.token}"
        ):
            return Reply(200, {"ok": False, "error": "invalid_auth"})
        params = request.params()
        method = request.path.removeprefix("/api").lstrip("/")
        if method == "chat.postMessage":
            failure = self._failing_post(request)
            if failure is not None:
                with self._lock:
                    self.failures += 1
                reply = self.failure_reply(failure, request)
                if failure.retry_after is not None:
                    reply.headers["Retry-After"] = str(int(failure.retry_after))
                return reply
            return self._post(params)
        if method == "chat.update":
            return self._update(params)
        if method in ("conversations.history", "conversations.replies"):
            return self._read(method, params)
        if method == "conversations.list":
            return self._list(params)
        return Reply(404, {"ok": False, "error": "unknown_method"})

    def _channel_id(self, channel: str) -> str:
        if channel.startswith("C") and channel[1:].isalnum() and channel.upper() == channel:
            return channel
        return "C" + hashlib.sha1(channel.lstrip("#").encode()).hexdigest()[:8].upper()

    def _post(self, params: dict[str, Any]) -> Reply:
        channel = self._channel_id(str(params.get("channel", "")))
        with self._mlock:
            # Slack's ts is the post's Unix time; the counter keeps it unique and rising.
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            thread_ts = params.get("thread_ts")
            if thread_ts and (channel, thread_ts) not in self.current:
                return Reply(200, {"ok": False, "error": "thread_not_found"})
            response = {"ok": True, "channel": channel, "ts": ts, "message": dict(params)}
            message = {**params, "channel": channel, "ts": ts, "method": "chat.postMessage",
                       "body": dict(params), "response": response}  # fmt: skip
            self.messages.append(message)
            self.current[(channel, ts)] = message
        return Reply(200, response)

    def _update(self, params: dict[str, Any]) -> Reply:
        key = (str(params.get("channel")), str(params.get("ts")))
        with self._mlock:
            if key not in self.current:
                return Reply(200, {"ok": False, "error": "message_not_found"})
            self.current[key] = {**self.current[key], **params}
            self.updates.append(params)
        return Reply(200, {"ok": True, "channel": key[0], "ts": key[1]})

    def _list(self, params: dict[str, Any]) -> Reply:
        """The channels posted to by name so far (`{id, name}`), in pages."""
        with self._mlock:
            named = sorted(
                {
                    str(m["body"].get("channel", "")).lstrip("#"): m["channel"]
                    for m in self.messages
                    if not str(m["body"].get("channel", "")).startswith("C")
                }.items()
            )
        start, limit = int(params.get("cursor") or 0), int(params.get("limit") or 100)
        page = [{"id": cid, "name": name} for name, cid in named[start : start + limit]]
        more = start + limit < len(named)
        return Reply(200, {"ok": True, "channels": page,
                           "response_metadata": {"next_cursor": str(start + limit) if more
                                                 else ""}})  # fmt: skip

    def _read(self, method: str, params: dict[str, Any]) -> Reply:
        channel = str(params.get("channel", ""))
        if self._channel_id(channel) != channel:
            return Reply(200, {"ok": False, "error": "channel_not_found"})
        oldest = float(params.get("oldest") or 0)
        parent = str(params.get("ts", ""))
        with self._mlock:
            found = [
                m for (c, _), m in self.current.items()
                if c == channel and float(m["ts"]) > oldest
                and ((method == "conversations.history" and not m.get("thread_ts"))
                     or (method == "conversations.replies"
                     and parent in (m["ts"], m.get("thread_ts"))))
            ]  # fmt: skip
        if method == "conversations.replies" and (channel, parent) not in self.current:
            return Reply(200, {"ok": False, "error": "thread_not_found"})
        found.sort(key=lambda m: float(m["ts"]), reverse=method == "conversations.history")
        start, limit = int(params.get("cursor") or 0), int(params.get("limit") or 100)
        page = found[start : start + limit]
        more = start + limit < len(found)
        full = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        messages = [self._wire(m, full) for m in page]
        return Reply(200, {"ok": True, "messages": messages, "has_more": more,
                           "response_metadata": {"next_cursor": str(start + limit) if more
                                                 else ""}})  # fmt: skip

    @staticmethod
    def _wire(message: dict[str, Any], metadata: bool) -> dict[str, Any]:
        """A stored post as conversations.history shows it."""
        out: dict[str, Any] = {"type": "message", "ts": message["ts"],
                               "text": message.get("text", ""), "bot_id": "B0FAKE"}  # fmt: skip
        if message.get("thread_ts"):
            out["thread_ts"] = message["thread_ts"]
        meta = message.get("metadata")
        if metadata and isinstance(meta, dict):
            out["metadata"] = {"event_type": meta.get("event_type"),
                               "event_payload": meta.get("event_payload")}  # fmt: skip
        return out

    def _webhook(self, request: Request) -> Reply:
        if not request.path.endswith("/" + self.webhook_secret):
            return Reply(404, "no_service")
        self.webhook_posts.append(request.params())
        return Reply(200, "ok")

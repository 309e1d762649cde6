"""Every inbound endpoint of `notifier run`, as served, over real HTTP.

One `notifier run` for the module (its own private Redis, the beat and the workers, the
web endpoint on a free port), a local status page with two open incidents, and the
vendors faked at their own wire formats: the real slack-sdk posts to the fake Slack,
the real twilio client sends to the fake Twilio. The service pages the on-call for
both incidents by itself; the tests then answer as people do (a Slack button, an SMS
reply), as Statuspage does (a webhook), and as an operator does (the console).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from pydantic import SecretStr

from notifier.channels.sms.channel import SmsChannel
from notifier.channels.sms.pager import Pager
from notifier.route.grouping import thread_key_for
from notifier.store.delivery.pages import Page
from tests.acceptance.served import Served, slack_press, slack_signed, twilio_signed
from tests.fakes.slack_api import FakeSlack
from tests.fakes.twilio_api import FakeTwilio
from tests.support.feed_server import FeedServer
from tests.support.own_redis import own_redis
from tests.support.push_kit import incident_push
from tests.support.statuspage_docs import FakeIncident, summary_json

# One served `notifier run` (about 7 CPU-s to start) for the module: on one worker.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("acceptance-served-run")]

FEED = "/api/v2/summary.json"
SIGNING = "acceptance-slack-signing-secret-0001"
TOKEN = "acceptance-console-token-0123456789"
HOOK = "acme-statuspage-hook-token-0123"
ANA, BO = "+15550000001", "+15550000002"
SLACK_INCIDENT = FakeIncident("accslack0001", "Elevated API errors").add(
    "investigating", "2024-12-26T19:00:00.000Z", "We are looking into API errors."
)
SMS_INCIDENT = FakeIncident("accsms000002", "Dashboard unavailable").add(
    "investigating", "2024-12-26T19:05:00.000Z", "The dashboard does not load."
)
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Stack:
    def __init__(self, served: Served, slack: FakeSlack, twilio: FakeTwilio, feeds: FeedServer,
                 client: redis.Redis, prefix: str, config: Path) -> None:  # fmt: skip
        self.served, self.slack, self.twilio, self.feeds = served, slack, twilio, feeds
        self.client, self.prefix, self.config = client, prefix, config
        sms = SmsChannel(twilio.account_sid, SecretStr(twilio.auth_token), "+15550009999",
                         api_url=twilio.url)  # fmt: skip
        self.pager = Pager(client, prefix, sms)  # reads the pages the service keeps

    def page_for(self, incident_id: str) -> Page | None:
        return self.pager.pages.for_thread(thread_key_for(("sre", "sms"), ("acme", incident_id)))

    def parent_post(self, title: str) -> dict[str, Any]:
        [post] = [m for m in self.slack.messages
                  if not m.get("thread_ts") and title in str(m.get("text"))]  # fmt: skip
        return post


def config_text(feed_url: str) -> str:
    return f"""
providers:
  - id: acme
    name: Acme Cloud
    feed: {{url: "{feed_url}", format: statuspage-json}}
    poll_interval: 1
    webhook_token: {HOOK}
oncall:
  rotations:
    primary:
      members:
        - {{name: ana, phone: "{ANA}"}}
        - {{name: bo, phone: "{BO}"}}
      escalate_after_minutes: 5
subscribers:
  - name: sre
    slack: {{channel: "#ops"}}
    sms: {{rotation: primary}}
"""


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("served-run")
    prefix = f"notifier-acc:{uuid.uuid4().hex[:8]}"
    with own_redis(["NOTIFIER_TEST_REDIS_URL"]) as url:
        feeds, slack, twilio = FeedServer().start(), FakeSlack().start(), FakeTwilio().start()
        feeds.put(FEED, summary_json([SLACK_INCIDENT, SMS_INCIDENT], "Acme Cloud"))
        config = tmp / "subscriptions.yaml"
        config.write_text(config_text(feeds.url(FEED)))
        served = Served(["run", "--concurrency", "1"], {
            "NOTIFIER_REDIS_URL": url, "NOTIFIER_KEY_PREFIX": prefix,
            "NOTIFIER_CONFIG": str(config), "NOTIFIER_DATA_DIR": str(tmp / "data"),
            "NOTIFIER_WEB_TOKEN": TOKEN,
            "NOTIFIER_SLACK_TOKEN": slack.token, "NOTIFIER_SLACK_API_URL": slack.api_url,
            "NOTIFIER_SLACK_SIGNING_SECRET": SIGNING,
            "NOTIFIER_TWILIO_ACCOUNT_SID": twilio.account_sid,
            "NOTIFIER_TWILIO_AUTH_TOKEN": twilio.auth_token,
            "NOTIFIER_TWILIO_FROM": "+15550009999", "NOTIFIER_TWILIO_API_URL": twilio.url,
            # Twilio signs the URL it posts to: the service checks against this one.
            "NOTIFIER_WEB_PUBLIC_URL": "",  # set below, once the port is known
            # The status page is local: allowed, for a service that checks where it connects.
            "NOTIFIER_FETCH_ALLOW_NETWORKS": "127.0.0.0/8",
        }, tmp / "run.log")  # fmt: skip
        served.env["NOTIFIER_WEB_PUBLIC_URL"] = served.url
        client = redis.Redis.from_url(url)
        try:
            served.start()
            yield Stack(served, slack, twilio, feeds, client, prefix, config)
        finally:
            served.stop()
            for key in client.scan_iter(match=f"{prefix}*", count=1000):
                client.delete(key)
            client.close()
            feeds.stop(), slack.stop(), twilio.stop()


@pytest.fixture(scope="module")
def paged(stack: Stack) -> Stack:
    """Both incidents posted to #ops with the Acknowledge button, and ana paged for each."""

    def both_paged() -> bool:
        return len(stack.twilio.to(ANA)) >= 2 and all(
            any(t in str(m.get("text")) for m in stack.slack.messages)
            for t in (SLACK_INCIDENT.name, SMS_INCIDENT.name)
        )

    stack.served.wait_for(both_paged, 60, "both incidents posted and paged")
    return stack


# ---- Slack: the Acknowledge button ---------------------------------------------------


def test_a_signed_press_acknowledges_the_page_and_replaces_the_button(paged: Stack) -> None:
    post = paged.parent_post(SLACK_INCIDENT.name)
    body = slack_press(post, "ana.lopez")
    answer = paged.served.call("POST", "/hooks/slack/interactivity", body,
                               {"Content-Type": "application/x-www-form-urlencoded",
                                **slack_signed(body, SIGNING)})  # fmt: skip
    assert answer.status == 200, answer.body
    page = paged.page_for(SLACK_INCIDENT.id)
    assert page is not None and page.acked_by == "@ana.lopez"
    # Escalation stopped: when bo's turn comes, nobody is woken.
    later = datetime.now(UTC) + timedelta(minutes=30)
    texts_to_bo = len(paged.twilio.to(BO))
    assert paged.pager.check_escalation(page.id, later) is None
    assert len(paged.twilio.to(BO)) == texts_to_bo
    # The reply in the thread, and the button replaced through chat.update.
    assert "Acknowledged by @ana.lopez" in [m["text"] for m in paged.slack.thread(post["ts"])]
    [edit] = [u for u in paged.slack.updates if "notifier_acked" in str(u.get("blocks"))]
    blocks = json.loads(edit["blocks"]) if isinstance(edit["blocks"], str) else edit["blocks"]
    assert (edit["channel"], edit["ts"]) == (post["channel"], post["ts"])
    assert not [b for b in blocks if b["type"] == "actions"]
    assert blocks[-1]["elements"][0]["text"] == "Acknowledged by @ana.lopez"
    assert SLACK_INCIDENT.name in json.dumps(blocks)  # the post itself stays


@pytest.mark.parametrize("how", ["bad signature", "stale", "unsigned"])
def test_a_press_not_signed_right_gets_401_and_changes_nothing(paged: Stack, how: str) -> None:
    post = paged.parent_post(SMS_INCIDENT.name)
    body = slack_press(post, "mallory")
    headers = {
        "bad signature": slack_signed(body, "another-apps-signing-secret-00"),
        "stale": slack_signed(body, SIGNING, at=datetime.now(UTC).timestamp() - 6 * 60),
        "unsigned": {},
    }[how]
    updates, posts = len(paged.slack.updates), len(paged.slack.messages)
    answer = paged.served.call("POST", "/hooks/slack/interactivity", body,
                               {"Content-Type": "application/x-www-form-urlencoded", **headers},
                               source="127.0.0.2")  # fmt: skip
    assert answer.status == 401
    page = paged.page_for(SMS_INCIDENT.id)
    assert page is not None and page.acked_by != "@mallory"
    assert (len(paged.slack.updates), len(paged.slack.messages)) == (updates, posts)


# ---- Twilio: an SMS reply --------------------------------------------------------------


def test_an_sms_reply_acknowledges_the_page_and_stops_the_escalation(paged: Stack) -> None:
    [text] = [t for t in paged.twilio.to(ANA) if SMS_INCIDENT.name in t]
    code = re.search(r"Reply 4 (\w+) to ack", text)
    assert code is not None, text
    params = {"From": ANA, "To": "+15550009999", "Body": f"4 {code.group(1)}",
              "MessageSid": "SM" + "a" * 32}  # fmt: skip
    url = paged.served.url + "/twilio/sms"
    forged = paged.served.form("/twilio/sms", params,
                               {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
                               source="127.0.0.3")  # fmt: skip
    assert forged.status == 403
    page = paged.page_for(SMS_INCIDENT.id)
    assert page is not None and page.acked_by is None

    answer = paged.served.form("/twilio/sms", params,
                               twilio_signed(paged.twilio.auth_token, url, params))  # fmt: skip
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("application/xml")
    assert f"Acknowledged {code.group(1)} (ana). Escalation stopped." in answer.body
    page = paged.page_for(SMS_INCIDENT.id)
    assert page is not None and page.acked_by == "ana"
    texts_to_bo = len(paged.twilio.to(BO))
    assert paged.pager.check_escalation(page.id, datetime.now(UTC) + timedelta(hours=1)) is None
    assert len(paged.twilio.to(BO)) == texts_to_bo


# ---- Statuspage: a webhook delivery ----------------------------------------------------


def test_a_statuspage_delivery_with_its_token_is_posted(stack: Stack) -> None:
    pushed = FakeIncident("accpush00003", "Webhooks delayed").add(
        "investigating", "2024-12-26T19:10:00.000Z", "Deliveries are delayed."
    )
    answer = stack.served.call("POST", f"/hooks/statuspage/acme/{HOOK}", incident_push(pushed),
                               {"Content-Type": "application/json"})  # fmt: skip
    assert answer.status == 202, answer.body
    stack.served.wait_for(lambda: any(pushed.name in str(m.get("text"))
                                      for m in stack.slack.messages),
                          30, "the pushed incident in Slack")  # fmt: skip


@pytest.mark.parametrize(
    ("how", "status"), [("wrong token", 404), ("over 1 MB", 413), ("not JSON", 400)]
)
def test_a_statuspage_delivery_that_is_not_one_is_refused(
    stack: Stack, how: str, status: int
) -> None:
    refused = FakeIncident(f"accbad{status}", f"Refused delivery {status}").add(
        "investigating", "2024-12-26T19:20:00.000Z", "Never seen."
    )
    token, body = {
        "wrong token": ("acme-statuspage-hook-token-9999", incident_push(refused)),
        "over 1 MB": (HOOK, incident_push(refused) + b" " * (1024 * 1024)),
        "not JSON": (HOOK, b"<html>not a delivery</html>"),
    }[how]
    answer = stack.served.call("POST", f"/hooks/statuspage/acme/{token}", body,
                               {"Content-Type": "application/json"},
                               source="127.0.0.4")  # fmt: skip
    assert answer.status == status
    assert token not in answer.body
    queued = stack.client.lrange(f"{stack.prefix}:push:queue", 0, -1)
    assert not [q for q in queued if refused.id.encode() in q]
    polls = stack.feeds.hits[FEED]  # two more rounds: a queued push would be merged by now
    stack.served.wait_for(lambda: stack.feeds.hits[FEED] >= polls + 2, 30, "two more polls")
    assert not [m for m in stack.slack.messages if refused.name in str(m.get("text"))]


# ---- the console -----------------------------------------------------------------------


def test_the_console_pages_show_the_incidents_behind_the_token(paged: Stack) -> None:
    served = paged.served
    pages = {
        "/": "Acme Cloud",
        "/timeline": SLACK_INCIDENT.name,
        f"/incidents/acme/{SLACK_INCIDENT.id}": "We are looking into API errors.",
        "/subscriptions": "sre",
        "/feeds": "acme",
        "/silences": "Silences",
    }
    for path, shown in pages.items():
        answer = served.call("GET", path, headers=AUTH)
        assert answer.status in (200, 503), (path, answer.status)  # Now: 503 while unhealthy
        assert shown in answer.body, path
        assert "content-security-policy" in answer.headers
    assert served.call("GET", "/", source="127.0.0.5").status == 401


def test_a_silence_added_in_the_console_is_listed_and_can_be_expired(stack: Stack) -> None:
    served = stack.served
    origin = {**AUTH, "Origin": served.url}
    fields = {"provider": "acme", "for": "2h", "reason": "planned maintenance 7731", "by": "ana"}
    added = served.form("/silences", fields, origin)
    assert added.status == 303, added.body
    listed = served.call("GET", "/silences", headers=AUTH).body
    assert "planned maintenance 7731" in listed
    [silence_id] = set(re.findall(r"/silences/([\w-]+)/expire", listed))
    expired = served.form(f"/silences/{silence_id}/expire", {}, origin)
    assert expired.status == 303
    assert "ended" in served.call("GET", "/silences", headers=AUTH).body


def test_a_cross_site_silence_form_is_refused(stack: Stack) -> None:
    fields = {"provider": "acme", "for": "30d", "reason": "cross site 4410", "any_impact": "on"}
    answer = stack.served.form("/silences", fields, {**AUTH, "Origin": "https://evil.example"},
                               source="127.0.0.6")  # fmt: skip
    assert answer.status == 403
    assert "cross site 4410" not in stack.served.call("GET", "/silences", headers=AUTH).body


def test_reload_rereads_the_subscription_file_and_keeps_a_broken_one_out(stack: Stack) -> None:
    served = stack.served
    good = served.call("POST", "/-/reload", headers=AUTH)
    assert good.status == 200, good.body
    assert good.json()["ok"] is True and good.json()["hash"]
    text = stack.config.read_text()
    try:
        stack.config.write_text(text.replace("poll_interval: 1", "pol_interval: 1"))
        bad = served.call("POST", "/-/reload", headers=AUTH)
        assert bad.status == 400
        assert "pol_interval: unknown key" in str(bad.json()["error"])
    finally:
        stack.config.write_text(text)
    assert served.call("POST", "/-/reload", headers=AUTH).json()["hash"] == good.json()["hash"]


@pytest.mark.parametrize(
    ("path", "fields", "reason"),
    [
        ("/timeline?from=0001-01-01T00:00:00Z&to=9999-12-31T00:00:00Z", None,
         "is outside the years 1970 to 2199"),
        ("/timeline?from=yesterday", None, "'yesterday' is not a time"),
        ("/silences", {"provider": "acme", "for": "999999999d", "reason": "forever"},
         "longer than a silence may last"),
        ("/silences", {"provider": "acme", "for": "soon", "reason": "x"}, "is not a duration"),
    ],
)  # fmt: skip
def test_a_bad_query_or_form_value_gets_400_with_the_reason(
    stack: Stack, path: str, fields: dict[str, str] | None, reason: str
) -> None:
    served = stack.served
    if fields is None:
        answer = served.call("GET", path, headers=AUTH)
    else:
        answer = served.form(path, fields, {**AUTH, "Origin": served.url})
    assert answer.status == 400
    assert reason in answer.body


# ---- health, metrics, and only our own Host ---------------------------------------------


def test_healthz_is_open_and_metrics_want_the_token(paged: Stack) -> None:
    served = paged.served
    served.wait_for(lambda: served.call("GET", "/healthz").status == 200, 60, "a healthy service")
    checks = served.call("GET", "/healthz").json()
    assert checks["healthy"] is True
    metrics = served.call("GET", "/metrics", headers=AUTH)
    assert metrics.status == 200
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "notifier_" in metrics.body
    assert served.call("GET", "/metrics", source="127.0.0.7").status == 401


@pytest.mark.parametrize("path", ["/", "/metrics", "/healthz", "/silences"])
def test_a_foreign_host_is_refused_with_nothing_of_ours(stack: Stack, path: str) -> None:
    answer = stack.served.call("GET", path, headers=AUTH,
                               host=f"rebind.attacker.example:{stack.served.port}")  # fmt: skip
    assert (answer.status, answer.body) == (421, "")
    for name in ("localhost", f"localhost:{stack.served.port}", f"[::1]:{stack.served.port}"):
        assert stack.served.call("GET", "/healthz", host=name).status in (200, 503), name


def test_a_rebinding_page_cannot_add_a_silence(stack: Stack) -> None:
    host = f"rebind.attacker.example:{stack.served.port}"
    fields = {"provider": "acme", "for": "30d", "reason": "rebound 5512", "any_impact": "on"}
    answer = stack.served.form("/silences", fields, {**AUTH, "Origin": f"http://{host}"},
                               host=host)  # fmt: skip
    assert (answer.status, answer.body) == (421, "")
    assert "rebound 5512" not in stack.served.call("GET", "/silences", headers=AUTH).body

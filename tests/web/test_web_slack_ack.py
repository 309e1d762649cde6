"""Acknowledge from Slack over real HTTP: the paged incident's post carries the button;
a signed press stops the SMS escalation as an SMS ACK does and answers in the thread;
an unsigned, wrongly signed or stale press gets 401 and changes nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import redis
from pydantic import SecretStr

from notifier.channels.slack.channel import SlackChannel, SlackTarget
from notifier.channels.sms.channel import SmsChannel
from notifier.channels.sms.pager import Pager, Recipients
from notifier.config.load import parse_config
from notifier.web.wiring import WebWiring
from tests.fakes import sample
from tests.fakes.slack_api import FakeSlack
from tests.fakes.twilio_api import FakeTwilio
from tests.web.test_web import LIMITS, NOW, serve

SIGNING = "8f742231b10e8888abcd99yyyzzz85a5"
CONFIG = """
providers: [{id: openai}]
oncall:
  rotations:
    primary:
      members:
        - {name: ana, phone: "+15550000001"}
        - {name: bo, phone: "+15550000002"}
      escalate_after_minutes: 5
subscribers:
  - name: sre
    slack: {channel: "#ops"}
    sms: {rotation: primary}
  - name: readers
    slack: {channel: "#news"}
"""


@pytest.fixture
def pager(redis_client: redis.Redis, key_prefix: str, fake_twilio: FakeTwilio) -> Pager:
    sms = SmsChannel(fake_twilio.account_sid, SecretStr(fake_twilio.auth_token), "+15550009999",
                     api_url=fake_twilio.url)  # fmt: skip
    return Pager(redis_client, key_prefix, sms)


@pytest.fixture
def slack(fake_slack: FakeSlack) -> SlackChannel:
    return SlackChannel(SecretStr(fake_slack.token), fake_slack.api_url)


@pytest.fixture
def web(redis_client: redis.Redis, key_prefix: str, pager: Pager, slack: SlackChannel,
        ) -> Iterator[str]:  # fmt: skip
    ctx = WebWiring(redis_client, key_prefix, f"{key_prefix}:celery:", LIMITS, pager,
                     web_token=SecretStr("the-console-token"), clock=lambda: NOW,
                     slack_signing_secret=SecretStr(SIGNING), slack=slack)  # fmt: skip
    yield from serve(ctx)


def _targets(name: str, slack: SlackChannel) -> SlackTarget:
    sub = parse_config(CONFIG, "t.yaml").subscriber(name)
    assert sub is not None
    [target] = slack.targets(sub)
    assert isinstance(target, SlackTarget)
    return target


def _paged(pager: Pager, slack: SlackChannel) -> tuple[str, str]:
    """The incident paged (SMS to ana, escalating) and posted to #ops; (page id, thread)."""
    rotation = parse_config(CONFIG, "t.yaml").oncall.rotations["primary"]
    sms_alert = sample.alert(channel="sms", thread_key="sre/sms/openai/01HV8ZK3Q")
    page = pager.page(sms_alert, Recipients(rotation=rotation), NOW)
    assert page.page_id is not None
    posted = slack.send(sample.alert(), _targets("sre", slack), None)
    assert posted.thread_ref is not None
    return page.page_id, posted.thread_ref


def press(thread_ref: str, user: str = "ana.lopez") -> bytes:
    channel, _, ts = thread_ref.partition("/")
    value = json.dumps({"s": "sre", "p": "openai", "i": "01HV8ZK3Q"})
    payload = {"type": "block_actions", "user": {"id": "U1", "username": user},
               "channel": {"id": channel}, "message": {"ts": ts},
               "actions": [{"action_id": "notifier_ack", "value": value}]}  # fmt: skip
    return urlencode({"payload": json.dumps(payload)}).encode()


def sign(body: bytes, secret: str = SIGNING, at: float | None = None) -> dict[str, str]:
    ts = str(int(time.time() if at is None else at))
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **headers}
    req = urllib.request.Request(url + "/hooks/slack/interactivity", body, headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return err.code


def test_the_paged_incident_post_carries_the_button_and_a_plain_one_does_not(
    slack: SlackChannel, fake_slack: FakeSlack
) -> None:
    slack.send(sample.alert(), _targets("sre", slack), None)
    slack.send(sample.alert(subscriber="readers"), _targets("readers", slack), None)
    paged, plain = (json.loads(m["blocks"]) if isinstance(m["blocks"], str) else m["blocks"]
                    for m in fake_slack.messages)  # fmt: skip
    [actions] = [b for b in paged if b["type"] == "actions"]
    [button] = actions["elements"]
    assert (button["text"]["text"], button["action_id"]) == ("Acknowledge", "notifier_ack")
    assert json.loads(button["value"]) == {"s": "sre", "p": "openai", "i": "01HV8ZK3Q"}
    assert not [b for b in plain if b["type"] == "actions"]


def test_a_signed_press_stops_the_escalation_and_answers_in_the_thread(
    web: str, pager: Pager, slack: SlackChannel, fake_slack: FakeSlack, fake_twilio: FakeTwilio
) -> None:
    page_id, thread = _paged(pager, slack)
    body = press(thread)
    assert post(web, body, sign(body)) == 200
    page = pager.pages.load(page_id)
    assert page is not None and page.acked_by == "@ana.lopez"
    paged_before = len(fake_twilio.requests)
    assert pager.check_escalation(page_id, NOW + timedelta(minutes=6)) is None
    assert len(fake_twilio.requests) == paged_before  # bo is not woken
    replies = fake_slack.thread(thread.partition("/")[2])
    assert [r["text"] for r in replies][-1] == "Acknowledged by @ana.lopez"


@pytest.mark.parametrize("how", ["unsigned", "other secret", "stale", "tampered", "garbage ts"])
def test_a_press_that_is_not_signed_right_gets_401_and_changes_nothing(
    web: str, pager: Pager, slack: SlackChannel, fake_slack: FakeSlack, how: str
) -> None:
    page_id, thread = _paged(pager, slack)
    body = press(thread)
    headers = {
        "unsigned": {},
        "other secret": sign(body, "another-apps-signing-secret"),
        "stale": sign(body, at=time.time() - 6 * 60),
        "tampered": sign(press(thread, user="mallory")),
        "garbage ts": {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"},
    }[how]
    posts = len(fake_slack.messages)
    assert post(web, body, headers) == 401
    page = pager.pages.load(page_id)
    assert page is not None and page.acked_by is None
    assert len(fake_slack.messages) == posts


def test_the_hook_needs_no_console_token_but_a_signature(web: str) -> None:
    body = urlencode({"payload": json.dumps({"type": "block_actions", "actions": []})}).encode()
    assert post(web, body, sign(body)) == 200  # open path; not our button: nothing to do

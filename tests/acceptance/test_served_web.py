"""`notifier web` alone (the production split), as served, over real HTTP: a signed
Slack press acknowledges the page, only our own Host is answered, failed credentials
are limited per client, and short tokens are refused before anything listens.

The page and the Slack post with its button are made here, through the real Pager and
SlackChannel against the fakes and the same Redis, as a worker would have made them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from pydantic import SecretStr

from notifier.channels.slack.channel import SlackChannel, SlackTarget
from notifier.channels.sms.channel import SmsChannel
from notifier.channels.sms.pager import Pager, Recipients
from notifier.config.load import parse_config
from tests.acceptance.served import ROOT, Served, slack_press, slack_signed
from tests.fakes import sample
from tests.fakes.slack_api import FakeSlack
from tests.fakes.twilio_api import FakeTwilio
from tests.support.own_redis import own_redis

SIGNING = "web-alone-slack-signing-secret-01"
# One served `notifier web` for the module: on one worker.
pytestmark = pytest.mark.xdist_group("acceptance-served-web")

TOKEN = "web-alone-console-token-0123456789"
HOOK = "openai-statuspage-hook-token-0001"
CONFIG = f"""
providers: [{{id: openai, webhook_token: {HOOK}}}]
oncall:
  rotations:
    primary:
      members:
        - {{name: ana, phone: "+15550000001"}}
        - {{name: bo, phone: "+15550000002"}}
      escalate_after_minutes: 5
subscribers:
  - name: sre
    slack: {{channel: "#ops"}}
    sms: {{rotation: primary}}
"""
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Web:
    def __init__(self, served: Served, slack: FakeSlack, twilio: FakeTwilio,
                 client: redis.Redis, prefix: str) -> None:  # fmt: skip
        self.served, self.slack, self.twilio = served, slack, twilio
        sms = SmsChannel(twilio.account_sid, SecretStr(twilio.auth_token), "+15550009999",
                         api_url=twilio.url)  # fmt: skip
        self.pager = Pager(client, prefix, sms)
        self.channel = SlackChannel(SecretStr(slack.token), slack.api_url)

    def paged(self) -> tuple[str, dict[str, Any]]:
        """ana paged for the incident and its post in #ops: (page id, the post)."""
        config = parse_config(CONFIG, "subscriptions.yaml")
        rotation = config.oncall.rotations["primary"]
        alert = sample.alert(channel="sms", thread_key="sre/sms/openai/01HV8ZK3Q")
        page = self.pager.page(alert, Recipients(rotation=rotation), datetime.now(UTC))
        assert page.page_id is not None
        sub = config.subscriber("sre")
        assert sub is not None
        [target] = self.channel.targets(sub)
        assert isinstance(target, SlackTarget)
        sent = self.channel.send(sample.alert(), target, None)
        [post] = [m for m in self.slack.messages if f"{m['channel']}/{m['ts']}" == sent.message_id]
        return page.page_id, post


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    tmp = tmp_path_factory.mktemp("served-web")
    prefix = f"notifier-acc:{uuid.uuid4().hex[:8]}"
    config = tmp / "subscriptions.yaml"
    config.write_text(CONFIG)
    with own_redis(["NOTIFIER_TEST_REDIS_URL"]) as url:
        slack, twilio = FakeSlack().start(), FakeTwilio().start()
        served = Served(["web"], {
            "NOTIFIER_REDIS_URL": url, "NOTIFIER_KEY_PREFIX": prefix,
            "NOTIFIER_CONFIG": str(config), "NOTIFIER_DATA_DIR": str(tmp / "data"),
            "NOTIFIER_WEB_TOKEN": TOKEN,
            "NOTIFIER_SLACK_TOKEN": slack.token, "NOTIFIER_SLACK_API_URL": slack.api_url,
            "NOTIFIER_SLACK_SIGNING_SECRET": SIGNING,
            "NOTIFIER_TWILIO_ACCOUNT_SID": twilio.account_sid,
            "NOTIFIER_TWILIO_AUTH_TOKEN": twilio.auth_token,
            "NOTIFIER_TWILIO_FROM": "+15550009999", "NOTIFIER_TWILIO_API_URL": twilio.url,
            "NOTIFIER_WEB_PUBLIC_URL": "https://notifier.example.com",
        }, tmp / "web.log")  # fmt: skip
        client = redis.Redis.from_url(url)
        try:
            served.start()
            yield Web(served, slack, twilio, client, prefix)
        finally:
            served.stop()
            for key in client.scan_iter(match=f"{prefix}*", count=1000):
                client.delete(key)
            client.close()
            slack.stop(), twilio.stop()


def test_a_signed_press_to_notifier_web_acknowledges_the_page(web: Web) -> None:
    page_id, post = web.paged()
    body = slack_press(post, "ana.lopez")
    answer = web.served.call("POST", "/hooks/slack/interactivity", body,
                             {**FORM, **slack_signed(body, SIGNING)})  # fmt: skip
    assert answer.status == 200, answer.body
    page = web.pager.pages.load(page_id)
    assert page is not None and page.acked_by == "@ana.lopez"
    texts = len(web.twilio.sent)
    assert web.pager.check_escalation(page_id, datetime.now(UTC) + timedelta(hours=1)) is None
    assert len(web.twilio.sent) == texts  # bo is not woken
    assert "Acknowledged by @ana.lopez" in [m["text"] for m in web.slack.thread(post["ts"])]
    [edit] = [u for u in web.slack.updates if u["ts"] == post["ts"]]
    blocks = json.loads(edit["blocks"]) if isinstance(edit["blocks"], str) else edit["blocks"]
    assert [b["type"] for b in blocks if b["type"] == "actions"] == []
    assert "Acknowledged by @ana.lopez" in json.dumps(blocks)
    # A second press (a stale view of the post) changes nothing and names the first.
    again = slack_press(post, "bo.smith")
    answer = web.served.call("POST", "/hooks/slack/interactivity", again,
                             {**FORM, **slack_signed(again, SIGNING)})  # fmt: skip
    assert answer.status == 200
    page = web.pager.pages.load(page_id)
    assert page is not None and page.acked_by == "@ana.lopez"
    assert [m["text"] for m in web.slack.thread(post["ts"])][-1] == "Acknowledged by @ana.lopez"


def test_it_answers_its_public_name_and_loopback_only(web: Web) -> None:
    served = web.served
    for host in ("notifier.example.com", "NOTIFIER.example.com:443", "localhost", "127.0.0.1"):
        assert served.call("GET", "/healthz", host=host).status in (200, 503), host
    for host in ("rebind.attacker.example", "notifier.example.com.attacker.example", "",
                 "10.0.0.8:8080", "[::2]"):  # fmt: skip
        answer = served.call("GET", "/metrics", headers={"Authorization": f"Bearer {TOKEN}"},
                             host=host)  # fmt: skip
        assert (answer.status, answer.body) == (421, ""), host


@pytest.mark.parametrize(
    ("source", "attempt"),
    [("127.0.0.21", "the console token"), ("127.0.0.22", "a Slack signature"),
     ("127.0.0.23", "a webhook token")],
)  # fmt: skip
def test_failed_attempts_are_limited_per_client(web: Web, source: str, attempt: str) -> None:
    served = web.served

    def bad() -> int:
        if attempt == "the console token":
            return served.call("GET", "/", headers={"Authorization": "Bearer guess-0123456789ab"},
                               source=source).status  # fmt: skip
        if attempt == "a Slack signature":
            body = b"payload=%7B%7D"
            return served.call("POST", "/hooks/slack/interactivity", body,
                               {**FORM, **slack_signed(body, "not-the-secret-0123")},
                               source=source).status  # fmt: skip
        return served.call("POST", "/hooks/statuspage/openai/guessed-token-0123456", b"{}",
                           source=source).status  # fmt: skip

    refusals = [bad() for _ in range(10)]
    assert set(refusals) <= {401, 403, 404} and len(set(refusals)) == 1
    limited = served.call("GET", "/", headers={"Authorization": f"Bearer {TOKEN}"},
                          source=source)  # fmt: skip
    assert limited.status == 429  # even with the right token, for a while
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert served.call("GET", "/healthz", source=source).status in (200, 503)  # probes pass
    ok = served.call("GET", "/", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status in (200, 503)  # another client is not slowed


def _start(tmp_path: Path, command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in Served([], {}, tmp_path / "x.log").env.items()}
    return subprocess.run(
        [sys.executable, "-m", "notifier", command], cwd=ROOT, capture_output=True, text=True,
        timeout=60, env={**base, "NOTIFIER_DATA_DIR": str(tmp_path / "data"), **env},
    )  # fmt: skip


def test_a_short_web_token_is_refused_before_anything_listens(tmp_path: Path) -> None:
    done = _start(tmp_path, "web", {"NOTIFIER_WEB_TOKEN": "hunter2"})
    assert done.returncode == 1
    assert "NOTIFIER_WEB_TOKEN: must be at least 16 characters" in done.stderr
    assert "hunter2" not in done.stderr + done.stdout


def test_a_short_webhook_token_from_the_environment_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "subscriptions.yaml"
    config.write_text("providers:\n  - id: openai\n    webhook_token_env: HOOK_TOKEN\n")
    done = _start(tmp_path, "run", {"NOTIFIER_CONFIG": str(config), "HOOK_TOKEN": "ab"})
    assert done.returncode == 1
    assert "subscriptions.yaml:2: providers[0]: the webhook token in $HOOK_TOKEN must be 16" in (
        done.stderr
    )
    assert not (tmp_path / "data").exists()  # nothing was started

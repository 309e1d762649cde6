"""The web endpoint over real HTTP (uvicorn): Twilio signatures, acks with TwiML, /healthz,
/metrics."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
import redis
from pydantic import SecretStr
from redis.backoff import NoBackoff
from redis.retry import Retry
from twilio.request_validator import RequestValidator

from notifier.channels.sms.channel import SmsChannel
from notifier.channels.sms.pager import Pager, Recipients
from notifier.pipeline.runtime.health import Limits
from notifier.store.ops.heartbeats import Heartbeats
from notifier.store.ops.metrics import Metrics
from notifier.web.app import create_app
from notifier.web.serving.serve import WebThread, bind
from notifier.web.wiring import WebWiring
from tests.fakes import sample
from tests.fakes.smtp import free_port
from tests.fakes.twilio_api import FakeTwilio

PUBLIC = "https://notifier.example.com"
ANA = "+15550000001"
NOW = datetime(2024, 1, 3, 12, tzinfo=UTC)


@pytest.fixture
def pager(redis_client: redis.Redis, key_prefix: str, fake_twilio: FakeTwilio) -> Pager:
    sms = SmsChannel(fake_twilio.account_sid, SecretStr(fake_twilio.auth_token), "+15550009999",
                     api_url=fake_twilio.url)  # fmt: skip
    return Pager(redis_client, key_prefix, sms)


LIMITS = Limits(tick_s=5.0, due_max_age_s=120.0)


def serve(ctx: WebWiring) -> Iterator[str]:
    web = WebThread(create_app(ctx), bind("127.0.0.1", 0)).start()
    try:
        yield web.url
    finally:
        web.stop()


@pytest.fixture
def web(
    redis_client: redis.Redis, key_prefix: str, pager: Pager, fake_twilio: FakeTwilio
) -> Iterator[str]:
    ctx = WebWiring(redis_client, key_prefix, f"{key_prefix}:celery:", LIMITS, pager,
                     SecretStr(fake_twilio.auth_token), PUBLIC, clock=lambda: NOW)  # fmt: skip
    yield from serve(ctx)


def post(base: str, path: str, form: dict[str, str], signature: str | None) -> tuple[int, str]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    req = urllib.request.Request(base + path, urlencode(form).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def sign(token: str, path: str, form: dict[str, str]) -> str:
    return str(RequestValidator(token).compute_signature(PUBLIC + path, form))


def test_a_signed_ack_acknowledges_the_page_and_answers_with_twiml(
    web: str, pager: Pager, fake_twilio: FakeTwilio
) -> None:
    page = pager.page(sample.alert(channel="sms"), Recipients(numbers=(ANA,)), NOW)
    form = {"From": ANA, "To": "+15550009999", "Body": f"4 {page.code}", "MessageSid": "SM1"}
    status, body = post(web, "/twilio/sms", form, sign(fake_twilio.auth_token, "/twilio/sms", form))
    assert status == 200
    assert body.startswith("<?xml") and "<Response><Message>Acknowledged" in body
    loaded = pager.pages.load(page.page_id or "")
    assert loaded is not None and loaded.acked_by == ANA


@pytest.mark.parametrize(
    "signature",
    [
        # no signature header at all
        None,
        # signed with another account's token
        "other",
        # a valid signature for a different URL (a replay to another endpoint)
        "wrong-url",
        # garbage
        "AAAA",
    ],
)
def test_an_unsigned_or_wrongly_signed_request_gets_403_and_changes_nothing(
    web: str, pager: Pager, fake_twilio: FakeTwilio, signature: str | None
) -> None:
    page = pager.page(sample.alert(channel="sms"), Recipients(numbers=(ANA,)), NOW)
    form = {"From": ANA, "Body": f"ACK {page.code}"}
    if signature == "other":
        signature = sign("some-other-token-0000", "/twilio/sms", form)
    elif signature == "wrong-url":
        signature = sign(fake_twilio.auth_token, "/elsewhere", form)
    status, _ = post(web, "/twilio/sms", form, signature)
    assert status == 403
    loaded = pager.pages.load(page.page_id or "")
    assert loaded is not None and loaded.acked_by is None


def test_an_unknown_code_gets_a_helpful_reply(web: str, fake_twilio: FakeTwilio) -> None:
    form = {"From": ANA, "Body": "hello"}
    status, body = post(web, "/twilio/sms", form, sign(fake_twilio.auth_token, "/twilio/sms", form))
    assert status == 200 and "Reply 4 &lt;code&gt;" in body


def test_healthz_is_200_while_redis_answers_and_the_service_is_alive_and_503_when_not(
    redis_client: redis.Redis, key_prefix: str, web: str
) -> None:
    beats = Heartbeats(redis_client, key_prefix)
    beats.beat(NOW)
    beats.worker("celery@here", NOW, expire_after=15)
    status, body = get(web + "/healthz")
    assert status == 200 and '"healthy":true' in body
    dead = redis.Redis(port=free_port(), socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))
    for base in serve(WebWiring(dead, key_prefix, "", LIMITS)):
        status, body = get(base + "/healthz")
        assert status == 503 and '"name":"redis","ok":false' in body


def test_metrics_render_prometheus_text(redis_client: redis.Redis, key_prefix: str) -> None:
    Metrics(redis_client, key_prefix).inc("notifier_deliveries_total", channel="slack",
                                          outcome="delivered")  # fmt: skip
    for base in serve(WebWiring(redis_client, key_prefix, f"{key_prefix}:celery:", LIMITS)):
        status, body = get(base + "/metrics")
        assert status == 200
        assert 'notifier_deliveries_total{channel="slack",outcome="delivered"} 1.0' in body
        assert get(base + "/nope")[0] == 404

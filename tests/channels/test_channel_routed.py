"""PagerDuty, Opsgenie, the generic webhook and apprise, each through its real client
against a local fake that checks the payload: 2xx sends; 429 retries after the vendor's
Retry-After; 5xx and refused connections retry; 4xx is permanent; no message carries
a key; a route whose variable is unset fails permanently and says which."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from pydantic import SecretStr

from notifier.channels.apprise.channel import AppriseChannel
from notifier.channels.base import Channel, DeliveryError, SendResult, Target
from notifier.channels.opsgenie.channel import OpsgenieChannel, OpsgenieTarget
from notifier.channels.pagerduty.channel import PagerDutyChannel, PagerDutyTarget, dedup_key
from notifier.channels.render import Presentation, notes
from notifier.channels.webhook.channel import WebhookChannel, WebhookTarget, payload
from notifier.config.load import parse_config
from notifier.models import Impact
from tests.fakes import sample
from tests.fakes.opsgenie_api import FakeOpsgenie
from tests.fakes.pagerduty_api import FakePagerDuty
from tests.fakes.server import FakeServer
from tests.fakes.smtp import free_port
from tests.fakes.webhook_receiver import FakeWebhookReceiver


@dataclass
class Case:
    channel: Channel
    target: Target
    fake: FakeServer
    secret: str
    sent: Callable[[], int]  # how many the fake accepted
    unreachable: Callable[[], tuple[Channel, Target]]

    def send(self, **kw: object) -> SendResult:
        return self.channel.send(sample.alert(channel=self.channel.name, **kw), self.target, None)


def pagerduty(monkeypatch: pytest.MonkeyPatch) -> Case:
    fake = FakePagerDuty().start()
    monkeypatch.setenv("PD_ROUTING_KEY", fake.routing_key)
    refused = f"http://127.0.0.1:{free_port()}"
    return Case(PagerDutyChannel(fake.url), PagerDutyTarget("PD_ROUTING_KEY"), fake,
                fake.routing_key, lambda: len(fake.events),
                lambda: (PagerDutyChannel(refused), PagerDutyTarget("PD_ROUTING_KEY")))  # fmt: skip


def opsgenie(monkeypatch: pytest.MonkeyPatch) -> Case:
    fake = FakeOpsgenie().start()
    monkeypatch.setenv("OPSGENIE_API_KEY", fake.api_key)
    refused = f"http://127.0.0.1:{free_port()}"
    return Case(OpsgenieChannel(fake.url), OpsgenieTarget("OPSGENIE_API_KEY"), fake,
                fake.api_key, lambda: len(fake.created),
                lambda: (OpsgenieChannel(refused), OpsgenieTarget("OPSGENIE_API_KEY")))  # fmt: skip


def webhook(monkeypatch: pytest.MonkeyPatch) -> Case:
    fake = FakeWebhookReceiver().start()
    assert fake.key is not None
    monkeypatch.setenv("HOOK_SECRET", fake.key)
    url = f"{fake.url}/hooks/notifier?token=url-token-secret-77"
    refused = SecretStr(f"http://127.0.0.1:{free_port()}/h?token=url-token-secret-77")
    return Case(WebhookChannel(), WebhookTarget(SecretStr(url), "HOOK_SECRET"), fake,
                "url-token-secret-77", lambda: len(fake.accepted),
                lambda: (WebhookChannel(), WebhookTarget(refused, "HOOK_SECRET")))  # fmt: skip


def apprise_json(monkeypatch: pytest.MonkeyPatch) -> Case:
    fake = FakeWebhookReceiver(key=None, check_fields=False).start()
    host = fake.url.removeprefix("http://")
    monkeypatch.setenv("APPRISE_URLS", f"json://{host}/notify?token=apprise-secret-55")
    refused = f"json://127.0.0.1:{free_port()}/notify?token=apprise-secret-55"
    channel = AppriseChannel()
    sub = parse_config("subscribers: [{name: s, apprise: {urls_env: APPRISE_URLS}}]",
                       "t.yaml").subscribers[0]  # fmt: skip

    def unreachable() -> tuple[Channel, Target]:
        monkeypatch.setenv("APPRISE_URLS", refused)
        return channel, channel.targets(sub)[0]

    [target] = channel.targets(sub)
    return Case(channel, target, fake, "apprise-secret-55", lambda: len(fake.accepted),
                unreachable)  # fmt: skip


DRIVERS = {"pagerduty": pagerduty, "opsgenie": opsgenie, "webhook": webhook,
           "apprise": apprise_json}  # fmt: skip


@pytest.fixture(params=list(DRIVERS))
def case(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Case]:
    made = DRIVERS[request.param](monkeypatch)
    try:
        yield made
    finally:
        made.fake.stop()


def _fails(case: Case, send: Callable[[], SendResult]) -> DeliveryError:
    with pytest.raises(DeliveryError) as err:
        send()
    assert case.secret not in err.value.message and case.secret not in repr(err.value)
    return err.value


def test_a_2xx_is_sent_once(case: Case) -> None:
    result = case.send()
    assert result.message_id and case.sent() == 1
    assert case.secret not in result.message_id


def test_a_429_retries_after_the_vendor_asks(case: Case) -> None:
    case.fake.fail_next(1, status=429, retry_after=30)
    err = _fails(case, case.send)
    assert not err.permanent
    if case.channel.name != "apprise":  # apprise does not hand the header on
        assert err.retry_after == 30.0
    assert case.sent() == 0


@pytest.mark.parametrize("status", [500, 503])
def test_a_5xx_retries(case: Case, status: int) -> None:
    case.fake.fail_next(1, status=status)
    assert not _fails(case, case.send).permanent


@pytest.mark.parametrize("status", [400, 403, 404])
def test_a_4xx_is_permanent(case: Case, status: int) -> None:
    case.fake.fail_next(1, status=status)
    err = _fails(case, case.send)
    assert err.permanent and str(status) in err.message


def test_a_refused_connection_retries(case: Case) -> None:
    channel, target = case.unreachable()
    err = _fails(case, lambda: channel.send(sample.alert(channel=channel.name), target, None))
    assert not err.permanent


def test_an_unset_variable_is_permanent_and_named(
    case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"pagerduty": "PD_ROUTING_KEY", "opsgenie": "OPSGENIE_API_KEY",
           "webhook": "HOOK_SECRET", "apprise": "APPRISE_URLS"}[case.channel.name]  # fmt: skip
    monkeypatch.delenv(env)
    target = case.target
    if case.channel.name == "apprise":  # apprise reads its URLs when it lists targets
        sub = parse_config("subscribers: [{name: s, apprise: {urls_env: APPRISE_URLS}}]",
                           "t.yaml").subscribers[0]  # fmt: skip
        [target] = case.channel.targets(sub)
    with pytest.raises(DeliveryError, match=f"{env} is not set") as err:
        case.channel.send(sample.alert(channel=case.channel.name), target, None)
    assert err.value.permanent and case.sent() == 0


# ---- each vendor's payload ----------------------------------------------------------


def test_pagerduty_triggers_and_resolves_one_alert_per_provider_incident(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = pagerduty(monkeypatch)
    fake = case.fake
    assert isinstance(fake, FakePagerDuty)
    try:
        case.send()
        case.channel.send(sample.update(channel="pagerduty"), case.target, None)
        case.channel.send(sample.resolved(channel="pagerduty"), case.target, None)
    finally:
        fake.stop()
    actions = [(e["event_action"], e["dedup_key"]) for e in fake.events]
    key = "notifier/openai/01HV8ZK3Q"
    assert actions == [("trigger", key), ("trigger", key), ("resolve", key)]
    assert fake.alerts == {key: "resolved"}
    trigger = fake.events[0]["payload"]
    assert trigger["severity"] == "error"  # major
    assert trigger["summary"] == "[MAJOR] openai: Elevated errors on API"
    expected = notes(sample.alert(channel="pagerduty"), Presentation())
    assert expected and trigger["custom_details"]["annotations"] == expected
    assert trigger["custom_details"]["components"] == ["API", "ChatGPT"]


def test_a_dedup_key_never_exceeds_255_characters() -> None:
    long = sample.alert(channel="pagerduty", id="x" * 400)
    assert len(dedup_key(long)) <= 255
    assert dedup_key(long) == dedup_key(sample.update(channel="pagerduty", id="x" * 400))
    assert dedup_key(long) != dedup_key(sample.alert(channel="pagerduty", id="y" * 400))


@pytest.mark.parametrize(("impact", "severity"), [(Impact.CRITICAL, "critical"),
                         (Impact.MINOR, "warning"), (Impact.NONE, "info")])  # fmt: skip
def test_pagerduty_severity_follows_the_impact(
    monkeypatch: pytest.MonkeyPatch, impact: Impact, severity: str
) -> None:
    case = pagerduty(monkeypatch)
    try:
        case.send(impact=impact)
    finally:
        case.fake.stop()
    assert isinstance(case.fake, FakePagerDuty)
    assert case.fake.events[0]["payload"]["severity"] == severity


def test_opsgenie_creates_then_closes_by_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    case = opsgenie(monkeypatch)
    fake = case.fake
    assert isinstance(fake, FakeOpsgenie)
    try:
        case.send(impact=Impact.CRITICAL)
        case.channel.send(sample.resolved(channel="opsgenie"), case.target, None)
    finally:
        fake.stop()
    [created] = fake.created
    assert (created["alias"], created["priority"]) == ("notifier/openai/01HV8ZK3Q", "P1")
    assert created["message"] == "openai: Elevated errors on API"
    assert fake.closed == ["notifier/openai/01HV8ZK3Q"]


def test_a_webhook_is_signed_so_the_receiver_can_verify_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = webhook(monkeypatch)
    fake = case.fake
    assert isinstance(fake, FakeWebhookReceiver) and fake.key is not None
    try:
        case.send()
    finally:
        fake.stop()
    [request] = fake.requests
    ts = request.headers["x-notifier-timestamp"]
    mac = hmac.new(fake.key.encode(), ts.encode() + b"." + request.body, hashlib.sha256)
    assert request.headers["x-notifier-signature"] == f"v1={mac.hexdigest()}"
    body = json.loads(request.body)
    assert body == payload(sample.alert(channel="webhook"), Presentation())
    assert (body["version"], body["kind"], body["provider"]["id"]) == (1, "new", "openai")


def test_a_wrongly_signed_webhook_is_refused_by_the_receiver_as_permanent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = webhook(monkeypatch)
    monkeypatch.setenv("HOOK_SECRET", "not-the-receivers-key")
    try:
        err = _fails(case, case.send)
    finally:
        case.fake.stop()
    assert err.permanent and "401" in err.message


def test_apprise_sends_title_and_text(monkeypatch: pytest.MonkeyPatch) -> None:
    case = apprise_json(monkeypatch)
    fake = case.fake
    assert isinstance(fake, FakeWebhookReceiver)
    try:
        case.send()
    finally:
        fake.stop()
    [got] = fake.accepted
    assert got["title"] == "[MAJOR] openai: Elevated errors on API"
    assert "We are investigating elevated errors." in got["message"]

"""Each channel's kind says how it is set up and how a route of it reads, so the build,
`config check`, the dry run and `notifier pending` ask the channel, never its name."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from notifier.channels.base import Channel, SendResult, Target
from notifier.channels.build import vendor_channels
from notifier.channels.kinds import all_kinds, describe, kind_of, register, unregister, vendors
from notifier.channels.reach import ChannelReach
from notifier.config.load import parse_config
from notifier.config.schema.fields import CHANNELS
from notifier.config.schema.subscribers import Subscriber
from notifier.config.settings import Settings
from notifier.models import Alert

HOOK = "https://hooks.example.com/T000/B000/secret-token"
FILE = f"""
subscribers:
  - name: ops
    slack: {{channel: '#ops'}}
    sms: {{to: ['+15550000001', '+15550000002']}}
    email: {{to: [ops@example.com, sre@example.com]}}
  - name: oncall
    slack: {{webhook_url: '{HOOK}'}}
    sms: {{rotation: primary}}
    webhook: {{url: '{HOOK}', secret_env: HOOK_KEY}}
  - name: vendors
    pagerduty: {{routing_key_env: PD_KEY}}
    opsgenie: {{api_key_env: OG_KEY}}
    apprise: {{urls_env: APPRISE_URLS}}
    webhook: {{url: '{HOOK}'}}
oncall:
  rotations:
    primary:
      members: [{{name: ann, phone: '+15550000009'}}]
"""
NOTHING = dict.fromkeys(("slack_token", "slack_webhook_url", "twilio_account_sid",
                         "twilio_auth_token", "twilio_from", "smtp_host"))  # fmt: skip


def _subscribers() -> dict[str, Subscriber]:
    return {s.name: s for s in parse_config(FILE, "kinds.yaml").subscribers}


def _settings(**given: str) -> Settings:
    return Settings(_env_file=None, **{**NOTHING, **given})  # type: ignore[arg-type]


def test_every_route_of_the_subscription_file_has_a_registered_kind() -> None:
    assert set(CHANNELS) <= {kind.name for kind in vendors()}
    assert all_kinds()[0].name == "console"  # it stands in, not a vendor
    assert "console" not in {kind.name for kind in vendors()}


@pytest.mark.parametrize(
    ("name", "subscriber", "said"),
    [
        ("slack", "ops", "#ops"),
        ("slack", "oncall", "its webhook"),
        ("sms", "ops", "***0001, ***0002"),
        ("sms", "oncall", "rotation primary"),
        ("email", "ops", "ops@example.com, sre@example.com"),
        ("pagerduty", "vendors", "the service whose routing key is in PD_KEY"),
        ("opsgenie", "vendors", "the team whose API key is in OG_KEY"),
        ("apprise", "vendors", "the URLs in APPRISE_URLS"),
        ("webhook", "oncall", "its URL, signed with the key in HOOK_KEY"),
        ("webhook", "vendors", "its URL"),
    ],
)
def test_a_route_is_described_by_its_kind_without_secrets(
    name: str, subscriber: str, said: str
) -> None:
    described = describe(_subscribers()[subscriber], name)
    assert described == said
    assert "secret-token" not in described


def test_a_vendor_is_built_exactly_when_its_credentials_are_set() -> None:
    subs = list(_subscribers().values())
    smtp = vendor_channels(_settings(smtp_host="smtp.example.com"), None, subs)
    # The routes that bring their own keys are built for their subscribers, whatever is set.
    assert {n for n, c in smtp.items() if c.name == n} == {
        "console", "slack", "email", "pagerduty", "opsgenie", "webhook", "apprise"
    }  # fmt: skip
    twilio = _settings(twilio_account_sid="AC1", twilio_auth_token="t", twilio_from="+15550000000")
    assert vendor_channels(twilio, None, subs)["sms"].name == "sms"
    alone = vendor_channels(_settings(), None, [])
    assert {c.name for c in alone.values()} == {"console"}  # it stands in for every vendor


def test_reach_says_which_route_can_deliver_and_what_it_lacks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subs = _subscribers()
    monkeypatch.delenv("PD_KEY", raising=False)
    monkeypatch.setenv("HOOK_KEY", "k")
    reach = ChannelReach(_settings(smtp_host="smtp.example.com"))
    assert reach.any_vendor(list(subs.values()))
    assert not reach.ready(subs["ops"], "slack") and reach.needs(subs["ops"], "slack") == (
        "NOTIFIER_SLACK_TOKEN"
    )
    assert reach.ready(subs["oncall"], "slack")  # its own webhook needs no token
    assert reach.ready(subs["ops"], "email") and not reach.ready(subs["ops"], "sms")
    assert not reach.ready(subs["vendors"], "pagerduty")
    assert reach.needs(subs["vendors"], "pagerduty") == "PD_KEY set in the environment"
    assert reach.ready(subs["oncall"], "webhook") and reach.ready(subs["vendors"], "webhook")
    assert not ChannelReach(_settings()).any_vendor([subs["ops"]])


class OwlChannel(Channel):
    name = "owl"

    def targets(self, subscriber: Subscriber) -> list[Target]:
        return []

    def send(self, alert: Alert, target: Target, thread_ref: str | None) -> SendResult:
        return SendResult("owl-1")


@pytest.fixture
def owl() -> Iterator[None]:
    register(OwlChannel)
    yield
    unregister(OwlChannel.name)


def test_a_channel_registered_from_outside_gets_a_kind_with_plain_defaults(owl: None) -> None:
    kind = kind_of("owl")
    assert kind is not None and kind.channel is OwlChannel
    sub = _subscribers()["ops"]
    assert kind.describe(sub) == "owl" and kind.ready(_settings(), sub)
    assert kind.credentials(_settings(), [sub]) is None  # never built from the settings
    assert "owl" in {k.name for k in all_kinds()}

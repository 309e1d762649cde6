"""One table of vendor answers applied to every channel (alertmanager's notify tests).

2xx → a SendResult; 429, 5xx, timeouts and refused connections → a transient
DeliveryError (retry); each vendor's documented permanent errors → permanent.
Every error message is checked for the channel's secrets.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from pydantic import SecretStr

from notifier.channels.base import (
    Channel,
    DeliveryError,
    SendResult,
    Target,
)
from notifier.channels.email.channel import EmailChannel, EmailTarget
from notifier.channels.slack.channel import SlackChannel, SlackTarget
from notifier.channels.sms.channel import SmsChannel, SmsTarget
from tests.fakes import sample
from tests.fakes.slack_api import FakeSlack
from tests.fakes.smtp import FakeSmtp, free_port
from tests.fakes.twilio_api import FakeTwilio

TIMEOUT = 0.5


@dataclass
class Driver:
    channel: Channel
    target: Target
    channel_name: str
    arrange: dict[str, Callable[[], None]]  # case -> make the vendor answer that way
    permanent: dict[str, Callable[[], None]]
    retry_after: float | None = None  # what a 429 case should carry
    cleanup: list[Callable[[], None]] = field(default_factory=list)
    secrets: tuple[str, ...] = ()

    def send(self) -> SendResult:
        return self.channel.send(sample.alert(channel=self.channel_name), self.target, None)


def _refused_port() -> int:
    return free_port()  # nothing listens there


def slack_api() -> Driver:
    fake = FakeSlack()
    fake.start()
    ch = SlackChannel(token=SecretStr(fake.token), api_url=fake.api_url, timeout=TIMEOUT)
    refused = SlackChannel(
        token=SecretStr(fake.token), api_url=f"http://127.0.0.1:{_refused_port()}/api/"
    )
    d = Driver(ch, SlackTarget(channel="#ops"), "slack", {}, {}, retry_after=30.0)
    d.arrange = {
        "ok": lambda: None,
        "rate_limited": lambda: fake.fail_next(status=429, retry_after=30),
        "server_error": lambda: fake.fail_next(status=500),
        "unavailable": lambda: fake.fail_next(status=503),
        "timeout": lambda: fake.fail_next(hang=True),
        "refused": lambda: setattr(d, "channel", refused),
    }

    def api_error(code: str) -> Callable[[], None]:
        return lambda: fake.fail_next(status=200, error=code)

    d.permanent = {
        code: api_error(code)
        for code in (
            "channel_not_found", "not_in_channel", "invalid_auth", "account_inactive",
            "is_archived", "token_revoked",
        )
    }  # fmt: skip
    d.permanent["http_404"] = lambda: fake.fail_next(status=404, error="not found")
    d.cleanup.append(fake.stop)
    d.secrets = (fake.token,)
    return d


def slack_webhook() -> Driver:
    fake = FakeSlack()
    fake.start()
    ch = SlackChannel(webhook_url=SecretStr(fake.webhook_url), timeout=TIMEOUT)
    refused_url = f"http://127.0.0.1:{_refused_port()}/services/T/B/{fake.webhook_secret}"
    refused = SlackChannel(webhook_url=SecretStr(refused_url))
    d = Driver(ch, SlackTarget(), "slack", {}, {}, retry_after=30.0)
    d.arrange = {
        "ok": lambda: None,
        "rate_limited": lambda: fake.fail_next(status=429, error="rate_limited", retry_after=30),
        "server_error": lambda: fake.fail_next(status=500, error="internal_error"),
        "unavailable": lambda: fake.fail_next(status=503, error="service_unavailable"),
        "timeout": lambda: fake.fail_next(hang=True),
        "refused": lambda: setattr(d, "channel", refused),
    }
    d.permanent = {
        "no_service_404": lambda: fake.fail_next(status=404, error="no_service"),
        "invalid_token_403": lambda: fake.fail_next(status=403, error="invalid_token"),
        "channel_is_archived_410": lambda: fake.fail_next(status=410, error="channel_is_archived"),
        "invalid_payload_400": lambda: fake.fail_next(status=400, error="invalid_payload"),
    }
    d.cleanup.append(fake.stop)
    d.secrets = (fake.webhook_url, fake.webhook_secret)
    return d


def twilio() -> Driver:
    fake = FakeTwilio()
    fake.start()
    token = SecretStr(fake.auth_token)
    ch = SmsChannel(fake.account_sid, token, "+15550001111", api_url=fake.url, timeout=TIMEOUT)
    refused = SmsChannel(
        fake.account_sid, token, "+15550001111", api_url=f"http://127.0.0.1:{_refused_port()}"
    )
    d = Driver(ch, SmsTarget("+15550002222", "K7"), "sms", {}, {}, retry_after=30.0)
    d.arrange = {
        "ok": lambda: None,
        "rate_limited": lambda: fake.fail_next(status=429, error=20429, retry_after=30),
        "server_error": lambda: fake.fail_next(status=500),
        "unavailable": lambda: fake.fail_next(status=503),
        "timeout": lambda: fake.fail_next(hang=True),
        "refused": lambda: setattr(d, "channel", refused),
    }
    d.permanent = {
        "invalid_number_21211": lambda: fake.fail_next(status=400, error=21211),
        "unsubscribed_21610": lambda: fake.fail_next(status=400, error=21610),
        "not_mobile_21614": lambda: fake.fail_next(status=400, error=21614),
        "unauthorized_401": lambda: fake.fail_next(status=401, error=20003),
        "forbidden_403": lambda: fake.fail_next(status=403, error=20003),
    }
    d.cleanup.append(fake.stop)
    d.secrets = (fake.auth_token,)
    return d


def smtp() -> Driver:
    server = FakeSmtp().start()
    ch = EmailChannel("127.0.0.1", server.port, starttls=False, timeout=TIMEOUT)
    refused = EmailChannel("127.0.0.1", _refused_port(), starttls=False, timeout=TIMEOUT)
    silent = socket.socket()  # accepts connections (backlog) but never greets: a timeout
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    hung = EmailChannel("127.0.0.1", silent.getsockname()[1], starttls=False, timeout=TIMEOUT)
    d = Driver(ch, EmailTarget("oncall@example.com"), "email", {}, {})
    d.arrange = {
        "ok": lambda: None,
        "rate_limited": lambda: server.fail_next(code=421, message="4.7.0 too many messages"),
        "server_error": lambda: server.fail_next(code=451, message="4.3.0 local error"),
        "unavailable": lambda: server.fail_next(code=450, message="4.2.1 mailbox busy"),
        "timeout": lambda: setattr(d, "channel", hung),
        "refused": lambda: setattr(d, "channel", refused),
    }
    d.permanent = {
        "no_such_user_550": lambda: server.fail_next(code=550, message="5.1.1 no such user"),
        "policy_554": lambda: server.fail_next(code=554, message="5.7.1 rejected"),
    }
    d.cleanup += [server.stop, silent.close]
    return d


DRIVERS = {"slack_api": slack_api, "slack_webhook": slack_webhook, "twilio": twilio, "smtp": smtp}
TRANSIENT = ["rate_limited", "server_error", "unavailable", "timeout", "refused"]


@pytest.fixture(params=sorted(DRIVERS))
def driver(request: pytest.FixtureRequest) -> Iterator[Driver]:
    d = DRIVERS[request.param]()
    yield d
    for stop in d.cleanup:
        stop()


def test_a_2xx_answer_is_a_send_result(driver: Driver) -> None:
    driver.arrange["ok"]()
    result = driver.send()
    assert result.message_id


@pytest.mark.parametrize("case", TRANSIENT)
def test_transient_answers_are_retried(driver: Driver, case: str) -> None:
    driver.arrange[case]()
    with pytest.raises(DeliveryError) as err:
        driver.send()
    assert err.value.permanent is False, err.value.message
    if case == "rate_limited" and driver.retry_after is not None:
        assert err.value.retry_after == driver.retry_after
    _no_secret(driver, err.value)


def test_documented_permanent_answers_are_not_retried(driver: Driver) -> None:
    assert driver.permanent, "every channel documents permanent failures"
    for case, arrange in driver.permanent.items():
        arrange()
        with pytest.raises(DeliveryError) as err:
            driver.send()
        assert err.value.permanent is True, f"{case}: {err.value.message}"
        _no_secret(driver, err.value)
    # and the channel still works afterwards
    assert driver.send().message_id


def _no_secret(driver: Driver, err: DeliveryError) -> None:
    for secret in driver.secrets:
        assert secret not in str(err) and secret not in repr(err)

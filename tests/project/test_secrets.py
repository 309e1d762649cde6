"""No secret (Slack token, webhook URL, Twilio auth token, SMTP password) in any log
record at DEBUG, including slack_sdk's, twilio's and urllib3's own, nor in errors or reprs."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import SecretStr
from slack_sdk.webhook import WebhookClient

from notifier import logs
from notifier.channels.base import DeliveryError
from notifier.channels.email.channel import EmailChannel, EmailTarget
from notifier.channels.slack.channel import SlackChannel, SlackTarget
from notifier.channels.sms.channel import SmsChannel, SmsTarget
from notifier.config.load import parse_config
from notifier.config.settings import Settings
from tests.fakes import sample
from tests.fakes.slack_api import FakeSlack
from tests.fakes.smtp import FakeSmtp
from tests.fakes.twilio_api import FakeTwilio
from tests.planning_helpers import test_catalog

SMTP_PASSWORD = "smtp-password-4242"


def test_no_secret_reaches_a_log_record_or_an_error(
    caplog: pytest.LogCaptureFixture,
    fake_slack: FakeSlack,
    fake_twilio: FakeTwilio,
    fake_smtp: FakeSmtp,
) -> None:
    caplog.set_level(logging.DEBUG)  # root, so every library's records are captured
    secrets = [fake_slack.token, fake_slack.webhook_url, fake_slack.webhook_secret,
               fake_twilio.auth_token, SMTP_PASSWORD]  # fmt: skip
    api = SlackChannel(SecretStr(fake_slack.token), fake_slack.api_url)
    hook = SlackChannel(webhook_url=SecretStr(fake_slack.webhook_url))
    sms = SmsChannel(fake_twilio.account_sid, SecretStr(fake_twilio.auth_token), "+15550009999",
                     api_url=fake_twilio.url)  # fmt: skip
    mail = EmailChannel("127.0.0.1", fake_smtp.port, username="alerts",
                        password=SecretStr(SMTP_PASSWORD), starttls=False)  # fmt: skip
    errors: list[DeliveryError] = []

    def attempt(fn: Callable[[], object]) -> None:
        try:
            fn()
        except DeliveryError as exc:
            errors.append(exc)

    failures: list[dict[str, Any] | None] = [None, {"status": 200, "error": "invalid_auth"}]
    for failure in [*failures, {"status": 500}]:
        for fake in (fake_slack,):
            if failure:
                fake.fail_next(1, **failure)
            attempt(lambda: api.send(sample.alert(), SlackTarget(channel="#ops"), None))
        if failure:
            fake_slack.fail_next(1, status=404, error="no_service")
        attempt(lambda: hook.send(sample.alert(), SlackTarget(), None))
        if failure:
            fake_twilio.fail_next(1, status=401, error=20003)
        attempt(lambda: sms.send(sample.alert(), SmsTarget("+15550002222", "K7"), None))
        # aiosmtpd offers no AUTH without an authenticator: login fails with a 5xx
        attempt(lambda: mail.send(sample.alert(), EmailTarget("a@example.com"), None))

    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in secrets:
        assert secret not in logged
        for err in errors:
            assert secret not in str(err) and secret not in repr(err)
    for ch in (api, hook, sms, mail):
        for secret in secrets:
            assert secret not in repr(ch)
    # the SDKs did log their requests (so this test would see a leak), redacted
    sdk = [r.getMessage() for r in caplog.records if r.name.startswith("notifier.channels.")]
    assert any("Sending a request" in m and "**********" in m for m in sdk)
    assert any(r.name == "notifier.channels.sms.channel.twilio" for r in caplog.records)
    assert len(errors) >= 4


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_a_subscribers_webhook_url_is_scrubbed_from_slack_sdks_own_log(
    fake_slack: FakeSlack,
) -> None:
    config = parse_config(
        "providers: [{id: openai}]\nsubscribers:\n  - name: sre\n"
        f"    slack: {{webhook_url: '{fake_slack.webhook_url}'}}\n",
        "test.yaml",
        test_catalog(),
    )
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    logs.configure("DEBUG", secrets=settings.secret_values() + config.secret_values())
    out = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(out)
    # slack_sdk's own client and logger, as any code path that skips our channel would use
    WebhookClient(fake_slack.webhook_url, retry_handlers=[]).send(text="hello")
    printed = out.getvalue()
    assert "Sending a request - url: **********" in printed
    assert fake_slack.webhook_secret not in printed

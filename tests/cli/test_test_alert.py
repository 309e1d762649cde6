"""`notifier test-alert` sends one marked test message per route through the real
vendor clients (against the local fakes) and reports each vendor's answer."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from notifier.channels.build import vendor_channels
from notifier.config.load import parse_config
from notifier.config.settings import Settings
from notifier.pipeline.test_alert import send_test_alerts
from notifier.route.oncall import on_call
from tests.fakes.slack_api import FakeSlack
from tests.fakes.smtp import FakeSmtp
from tests.fakes.twilio_api import FakeTwilio
from tests.support.cli import run_notifier

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2024, 12, 26, 19, 5, tzinfo=UTC)
CONFIG = """
providers:
  - id: openai
oncall:
  rotations:
    primary:
      members:
        - {name: ana, phone: "+15550000003"}
        - {name: bo, phone: "+15550000004"}
      handoff: {weekday: monday, time: "09:00", timezone: UTC}
      start: 2024-12-23
subscribers:
  - name: platform
    slack: {channel: "#ops"}
    sms: {to: ["+15550000001", "+15550000002"]}
    email: {to: [oncall@example.com]}
  - name: bots
    sms: {to: ["+15550000002"]}
  - name: night
    sms: {rotation: primary}
"""


def _env(tmp_path: Path, **settings: str) -> dict[str, str]:
    config = tmp_path / "subscriptions.yaml"
    config.write_text(CONFIG)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    return env | {"NOTIFIER_CONFIG": str(config), "NOTIFIER_DATA_DIR": str(tmp_path)} | settings


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_notifier(["test-alert", *args], env=env)


def test_it_reports_each_vendors_answer_per_target_and_fails_if_one_failed(
    tmp_path: Path, fake_slack: FakeSlack, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp
) -> None:
    env = _env(
        tmp_path,
        NOTIFIER_SLACK_TOKEN=fake_slack.token, NOTIFIER_SLACK_API_URL=fake_slack.api_url,
        NOTIFIER_TWILIO_ACCOUNT_SID=fake_twilio.account_sid,
        NOTIFIER_TWILIO_AUTH_TOKEN=fake_twilio.auth_token,
        NOTIFIER_TWILIO_FROM="+15550009999", NOTIFIER_TWILIO_API_URL=fake_twilio.url,
        NOTIFIER_SMTP_HOST="127.0.0.1", NOTIFIER_SMTP_PORT=str(fake_smtp.port),
        NOTIFIER_SMTP_STARTTLS="false",
    )  # fmt: skip
    fake_twilio.fail_next(1, status=400, error=21211)  # the first number is not valid
    done = _run(env)
    assert done.returncode == 1, done.stderr
    rows = [" ".join(line.split()) for line in done.stdout.splitlines()]
    ts = fake_slack.messages[0]["ts"]
    assert rows[0].startswith("platform slack #ops sent, message id C")
    assert rows[0].endswith(f"/{ts}")  # Slack's channel id and message ts
    assert rows[1] == (
        "platform sms …0001 FAILED (permanent): twilio: HTTP 400 code 21211: Unable to create "
        "record: The 'To' number is not a valid phone number."
    )
    assert rows[2].startswith("platform sms …0002 sent, message id SM")
    assert rows[3].startswith("platform email oncall@example.com sent, message id <")
    assert rows[4] == "bots sms …0002 already sent: sent once above"
    # A rotation: only the member on call now, the one a page would wake first.
    rotation = parse_config(CONFIG, "test.yaml").oncall.rotations["primary"]
    phone = on_call(rotation, datetime.now(UTC)).phone
    assert rows[5].startswith(f"night sms …{phone[-4:]} sent, message id SM")
    assert rows[6] == "1 of 6 failed"
    # Clearly a test, on every medium; the SMS is plain: no ack code to reply with.
    assert "[notifier test] notifier can reach platform on slack" in fake_slack.messages[0]["text"]
    sms = fake_twilio.to("+15550000002")
    assert len(sms) == 1 and sms[0].startswith("[notifier test]") and "Reply" not in sms[0]
    other = ({"+15550000003", "+15550000004"} - {phone}).pop()
    assert fake_twilio.to(other) == []
    (mail,) = fake_smtp.messages
    assert "[notifier test] notifier can reach platform on email" in str(mail["Subject"])
    assert fake_twilio.auth_token not in done.stdout + done.stderr


def test_one_subscriber_and_one_channel_can_be_picked(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    env = _env(tmp_path, NOTIFIER_SLACK_TOKEN=fake_slack.token,
               NOTIFIER_SLACK_API_URL=fake_slack.api_url)  # fmt: skip
    done = _run(env, "--subscriber", "platform", "--channel", "slack")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 1 and len(fake_slack.messages) == 1
    unknown = _run(env, "--subscriber", "platfrom")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == (
        "notifier test-alert: no subscriber named 'platfrom' (the file has: platform, bots, night)"
    )
    assert _run(env, "--subscriber", "bots", "--channel", "email").stderr.strip() == (
        "notifier test-alert: subscriber 'bots' has no email route"
    )


def test_a_transient_vendor_answer_is_reported_as_transient(fake_slack: FakeSlack) -> None:
    settings = Settings(_env_file=None, slack_token=fake_slack.token,  # type: ignore[call-arg]
                        slack_api_url=fake_slack.api_url)  # fmt: skip
    config = parse_config(CONFIG, "test.yaml")
    fake_slack.fail_next(1, status=503)
    (result,) = send_test_alerts(
        config, vendor_channels(settings, None, config.subscribers), NOW, "platform", "slack"
    )
    assert (result.outcome, result.permanent) == ("failed", False)
    assert result.describe().startswith("FAILED (transient): ")


def test_without_credentials_it_prints_once_per_subscriber_and_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = parse_config(CONFIG, "test.yaml")
    channels = vendor_channels(Settings(_env_file=None), None, config.subscribers)  # type: ignore[call-arg]
    results = send_test_alerts(config, channels, NOW, "platform")
    assert [(r.channel, r.describe()) for r in results] == [
        ("slack", "printed: no Slack credentials"),
        ("sms", "printed: no SMS credentials"),
        ("email", "printed: no email credentials"),
    ]
    assert not any(r.failed for r in results)
    assert capsys.readouterr().out.count("[notifier test]") == 1


def test_a_channel_without_credentials_fails_when_others_have_them(fake_slack: FakeSlack) -> None:
    settings = Settings(_env_file=None, slack_token=fake_slack.token,  # type: ignore[call-arg]
                        slack_api_url=fake_slack.api_url)  # fmt: skip
    config = parse_config(CONFIG, "test.yaml")
    results = send_test_alerts(
        config, vendor_channels(settings, None, config.subscribers), NOW, "platform", "email"
    )
    assert [r.describe() for r in results] == [
        "FAILED (permanent): no email credentials in the settings (alerts are lost)"
    ]


def test_a_failed_connection_says_why_in_the_networks_words(tmp_path: Path) -> None:
    with socket.socket() as nothing_listens:  # bound, never listening: refused
        nothing_listens.bind(("127.0.0.1", 0))
        port = nothing_listens.getsockname()[1]
        env = _env(tmp_path, NOTIFIER_SLACK_TOKEN="xoxb-test-token-1234",
                   NOTIFIER_SLACK_API_URL=f"http://127.0.0.1:{port}/api/")  # fmt: skip
        done = _run(env, "--subscriber", "platform", "--channel", "slack")
    assert done.returncode == 1
    row = " ".join(done.stdout.splitlines()[0].split())
    assert row == (
        "platform slack #ops FAILED (transient): slack: connection failed: "
        "Connection refused [Errno 111] (URLError)"
    )
    assert "xoxb-test-token-1234" not in done.stdout + done.stderr
    assert done.stderr == ""  # said once, in the row: not again in slack_sdk's own log line


def test_json_prints_one_object_per_target(tmp_path: Path, fake_slack: FakeSlack) -> None:
    env = _env(tmp_path, NOTIFIER_SLACK_TOKEN=fake_slack.token,
               NOTIFIER_SLACK_API_URL=fake_slack.api_url)  # fmt: skip
    fake_slack.fail_next(1, status=404, error="channel_not_found")
    done = _run(env, "--subscriber", "platform", "--json")
    assert done.returncode == 1, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["channel"], r["outcome"]) for r in rows] == [
        ("slack", "failed"), ("sms", "failed"), ("email", "failed"),
    ]  # fmt: skip
    assert rows[0]["permanent"] is True and "channel_not_found" in rows[0]["detail"]
    assert rows[1]["detail"].startswith("no SMS credentials")

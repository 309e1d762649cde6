"""The start-up banner says, per channel, whether it can deliver and where its alerts
go otherwise; the web line appears only when a URL is served."""

from __future__ import annotations

from pathlib import Path

from notifier.config.load import load_config
from notifier.config.settings import Settings
from notifier.pipeline.runtime.banner import startup_lines

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "subscriptions.example.yaml"


def test_with_one_vendor_configured_the_others_say_where_their_alerts_go() -> None:
    settings = Settings(_env_file=None, smtp_host="smtp.example.com")  # type: ignore[call-arg]
    lines = startup_lines(settings, load_config(EXAMPLE), EXAMPLE)
    assert lines[0] == f"config    {EXAMPLE}: 5 providers, 2 subscribers"
    assert lines[2:] == [
        "slack     no credentials: its alerts fail over to the fallback "
        "(platform -> email, support-bot-team -> lost)",
        "sms       no credentials: its alerts fail over to the fallback (platform -> email)",
        "email     can deliver (SMTP smtp.example.com:587); used by platform, support-bot-team",
    ]


def test_the_web_line_is_there_only_when_a_web_port_is_served() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    config = load_config(EXAMPLE)
    assert not any(line.startswith("web") for line in startup_lines(settings, config, EXAMPLE))
    served = startup_lines(settings, config, EXAMPLE, web_url="http://127.0.0.1:8080")
    assert served[-1].startswith("web       http://127.0.0.1:8080")


def test_no_secret_reaches_the_banner() -> None:
    token, webhook = "xoxb-secret-token-123", "https://hooks.slack.com/services/T/B/secret99"
    settings = Settings(_env_file=None, slack_token=token, slack_webhook_url=webhook)  # type: ignore[call-arg]
    text = "\n".join(startup_lines(settings, load_config(EXAMPLE), EXAMPLE))
    assert "slack     can deliver (bot token + webhook)" in text
    assert token not in text and "secret99" not in text

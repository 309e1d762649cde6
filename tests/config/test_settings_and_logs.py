"""Settings come from NOTIFIER_* variables; secrets never reach a repr or a log line."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from notifier import logs
from notifier.config.settings import Settings

SECRETS = {
    "NOTIFIER_SLACK_TOKEN": "xoxb-1111-secret-token",
    "NOTIFIER_TWILIO_AUTH_TOKEN": "twilio-secret-auth-token",
    "NOTIFIER_SMTP_PASSWORD": "smtp-secret-password",
    "NOTIFIER_SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/secretpath",
}


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Settings:
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("NOTIFIER_SMTP_PORT", "465")
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_it_reads_settings_from_prefixed_environment(settings: Settings) -> None:
    assert settings.smtp_port == 465
    assert settings.slack_token is not None
    assert settings.slack_token.get_secret_value() == SECRETS["NOTIFIER_SLACK_TOKEN"]


def test_secrets_never_appear_in_the_repr(settings: Settings) -> None:
    text = repr(settings) + str(settings) + settings.model_dump_json()
    for secret in SECRETS.values():
        assert secret not in text


def test_it_defaults_to_the_example_in_a_checkout_and_to_the_file_init_writes_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    # Outside a checkout (a pip install): the file `notifier init` writes, reported missing.
    assert Settings(_env_file=None).config_path() == Path("config/subscriptions.yaml")  # type: ignore[call-arg]
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "subscriptions.example.yaml").write_text("providers: []\n")
    assert Settings(_env_file=None).config_path() == Path("config/subscriptions.example.yaml")  # type: ignore[call-arg]
    (tmp_path / "config" / "subscriptions.yaml").write_text("providers: []\n")
    assert Settings(_env_file=None).config_path() == Path("config/subscriptions.yaml")  # type: ignore[call-arg]


def _capture(
    json_lines: bool, secrets: list[str], quiet: tuple[str, ...] = ()
) -> tuple[logging.Logger, list[str]]:
    logs.configure("DEBUG", json_lines, secrets, quiet=quiet)
    out: list[str] = []
    root = logging.getLogger()
    handler = root.handlers[0]
    handler.emit = lambda record: (
        out.append(handler.format(record)) if handler.filter(record) else None
    )  # type: ignore[method-assign]
    return logging.getLogger("test"), out


def test_the_log_filter_scrubs_a_secret_a_library_echoes(settings: Settings) -> None:
    log, out = _capture(False, settings.secret_values())
    log.debug("Authorization: Bearer %s", SECRETS["NOTIFIER_SLACK_TOKEN"])
    assert SECRETS["NOTIFIER_SLACK_TOKEN"] not in out[0]
    assert "**********" in out[0]


def test_json_logs_carry_provider_and_incident_ids() -> None:
    log, out = _capture(True, [])
    log.info("polled", extra={"provider": "openai", "incident_id": "01JG"})
    record = json.loads(out[0])
    assert record["msg"] == "polled"
    assert (record["provider"], record["incident_id"]) == ("openai", "01JG")


def test_routine_sweeps_leave_no_info_lines_but_keep_their_warnings() -> None:
    _, out = _capture(False, [], quiet=("notifier.release_retries",))
    trace = logging.getLogger("celery.app.trace")
    trace.info("Task %s[%s] succeeded in %ss: %r", "notifier.release_retries", "id1", 0.001, 0)
    trace.info("Task %s[%s] succeeded in %ss: %r", "notifier.deliver", "id2", 0.01, "delivered")
    trace.error("Task %s[%s] raised unexpected: %r", "notifier.release_retries", "id3", "boom")
    logging.getLogger("notifier.pipeline.delivery.release").info(
        "handing on 2 notifier.release_retries"
    )
    assert [line.split(" ", 3)[3] for line in out] == [
        "celery.app.trace: Task notifier.deliver[id2] succeeded in 0.01s: 'delivered'",
        "celery.app.trace: Task notifier.release_retries[id3] raised unexpected: 'boom'",
        "notifier.pipeline.delivery.release: handing on 2 notifier.release_retries",
    ]


def test_the_beat_lock_lasts_5_s_unless_set_and_never_under_2_s(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pydantic import ValidationError

    from workers.app import celery_config

    url = "redis://localhost:6379/0"
    assert celery_config(Settings(_env_file=None), url)["redbeat_lock_timeout"] == 5  # type: ignore[call-arg]
    monkeypatch.setenv("NOTIFIER_BEAT_LOCK_TIMEOUT", "2")
    assert celery_config(Settings(_env_file=None), url)["redbeat_lock_timeout"] == 2  # type: ignore[call-arg]
    # redbeat renews it by int(timeout) every loop of at most 1 s: 1 s would lapse
    # between two renewals.
    monkeypatch.setenv("NOTIFIER_BEAT_LOCK_TIMEOUT", "1")
    with pytest.raises(ValidationError, match="beat_lock_timeout"):
        Settings(_env_file=None)  # type: ignore[call-arg]

"""Synthetic probes against a target served here that turns bad and recovers: one
unconfirmed early warning after `failures_to_alert` failures (Slack and email; SMS
only where a route lists `probe_failure`), the provider's own incident then in the
same thread without a second page, and one short all-clear when no incident came."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifier.models import EventKind
from notifier.pipeline.ingest import stage as ingest
from tests.fakes.slack_api import FakeSlack
from tests.fakes.smtp import FakeSmtp
from tests.fakes.twilio_api import FakeTwilio
from tests.support.feed_server import FeedServer, feed_server
from tests.support.push_kit import Inline, ProbeTarget, runtime
from tests.support.statuspage_docs import FakeIncident, summary_json

# Its fake feed servers listen on 127.0.0.1, which the fetch guard refuses unless allowed.
pytestmark = pytest.mark.usefixtures("local_fetches")

T0 = datetime(2024, 12, 26, 18, 30, 30, tzinfo=UTC)
SUMMARY = "/api/v2/summary.json"
PHONE = "+15550100001"


@pytest.fixture
def target() -> Iterator[ProbeTarget]:
    server = ProbeTarget().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with feed_server() as server:
        yield server


def _run(
    tmp_path: Path, redis_url: str, key_prefix: str, feeds: FeedServer, target: ProbeTarget,
    slack: FakeSlack, twilio: FakeTwilio, smtp: FakeSmtp, sms_events: str = "",
) -> Inline:  # fmt: skip
    text = (
        "providers:\n  - id: openai\n    name: OpenAI\n"
        f"    feed: {{url: '{feeds.url(SUMMARY)}', format: statuspage-json}}\n"
        f"    probes: [{{url: '{target.url()}', expect_status: [200, 401], interval: 30,"
        " timeout: 1, failures_to_alert: 3}]\n"
        "subscribers:\n  - name: platform\n    slack: {channel: '#vendor-status'}\n"
        f"    sms: {{to: ['{PHONE}']}}\n"
        "    email: {to: [sre@example.com]}\n"
        + (f"    channels_filters:\n      sms: {{events: [{sms_events}]}}\n" if sms_events else "")
    )
    rt = runtime(
        tmp_path, redis_url, key_prefix, text,
        slack_token="xoxb-probe-test", slack_api_url=slack.url,
        twilio_account_sid=twilio.account_sid, twilio_auth_token=twilio.auth_token,
        twilio_from="+15550009999", twilio_api_url=twilio.url,
        smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False,
    )  # fmt: skip
    run = Inline(rt, T0)
    feeds.put(SUMMARY, summary_json([]))
    ingest.poll(rt, "openai", run, T0)
    return run


def _probe(run: Inline, seconds: float) -> EventKind | None:
    run.now = T0 + timedelta(seconds=seconds)
    return ingest.probe(run.rt, "openai", 0, run, run.now).event


def test_three_failures_send_one_unconfirmed_warning_and_the_incident_joins_its_thread(
    tmp_path: Path, redis_url: str, key_prefix: str, feeds: FeedServer, target: ProbeTarget,
    fake_slack: FakeSlack, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp,
) -> None:  # fmt: skip
    run = _run(tmp_path, redis_url, key_prefix, feeds, target, fake_slack, fake_twilio, fake_smtp)
    assert _probe(run, 0) is None  # 200: fine
    target.hang = True  # the endpoint goes bad: every probe times out
    assert [_probe(run, s) for s in (30, 60)] == [None, None]
    assert fake_slack.messages == []
    assert _probe(run, 90) is EventKind.PROBE_FAILURE
    assert _probe(run, 120) is None  # one warning, not one per failure
    (warning,) = fake_slack.messages
    text = str(warning)
    assert "OpenAI's status page still says operational" in text
    assert "our probe of 127.0.0.1 has failed 3 times since 18:31 UTC (timeouts)" in text
    assert len(fake_smtp.messages) == 1
    assert fake_twilio.to(PHONE) == []  # SMS only for routes that list probe_failure
    # 29 min after the first failed probe, the provider posts its incident.
    incident = FakeIncident("oai0001", "Elevated errors on ChatGPT, API and Sora")
    incident.add("investigating", "2024-12-26T19:00:00.000Z", "We are investigating.")
    feeds.put(SUMMARY, summary_json([incident]))
    run.now = datetime(2024, 12, 26, 19, 0, 40, tzinfo=UTC)
    ingest.poll(run.rt, "openai", run, run.now)
    confirmed = fake_slack.messages[1:]
    assert confirmed and all(m.get("thread_ts") == warning["ts"] for m in confirmed)
    assert any("Early warning: confirmed by OpenAI at 19:00 UTC, 29 min after our first "
               "failed probe" in str(m) for m in confirmed)  # fmt: skip
    assert not any("probe: Confirmed" in str(m) for m in confirmed)  # a label, not the kind
    # The SMS route never got the unconfirmed warning: the provider's incident is its
    # first page, once.
    assert len(fake_twilio.to(PHONE)) == 1
    # Recovery after a confirmed incident says nothing more from the probe.
    target.hang = False
    before = len(fake_slack.messages)
    assert _probe(run, 3600) is None
    assert len(fake_slack.messages) == before


def test_a_recovery_without_any_incident_sends_one_short_all_clear_in_the_thread(
    tmp_path: Path, redis_url: str, key_prefix: str, feeds: FeedServer, target: ProbeTarget,
    fake_slack: FakeSlack, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp,
) -> None:  # fmt: skip
    run = _run(tmp_path, redis_url, key_prefix, feeds, target, fake_slack, fake_twilio, fake_smtp)
    target.status = 503
    for s in (0, 30, 60):
        _probe(run, s)
    assert len(fake_slack.messages) == 1
    assert "(HTTP 503)" in str(fake_slack.messages[0])
    target.status = 401  # listed in expect_status: up (the API wants a key we never send)
    assert _probe(run, 90) is EventKind.PROBE_RECOVERED
    assert _probe(run, 120) is None
    assert len(fake_slack.messages) == 2
    all_clear = fake_slack.messages[1]
    assert all_clear.get("thread_ts") == fake_slack.messages[0]["ts"]
    assert "status page never posted an incident" in str(all_clear)
    assert all(h.get("authorization") is None for h in target.headers)  # no credentials


def test_an_sms_route_that_lists_probe_failure_is_paged_and_gets_the_all_clear(
    tmp_path: Path, redis_url: str, key_prefix: str, feeds: FeedServer, target: ProbeTarget,
    fake_slack: FakeSlack, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp,
) -> None:  # fmt: skip
    run = _run(tmp_path, redis_url, key_prefix, feeds, target, fake_slack, fake_twilio,
               fake_smtp, sms_events="new_incident, resolved, probe_failure")  # fmt: skip
    target.status = 500
    for s in (0, 30, 60):
        _probe(run, s)
    assert len(fake_twilio.to(PHONE)) == 1
    target.status = 200
    _probe(run, 90)
    assert len(fake_twilio.to(PHONE)) == 2  # the page gets its all-clear


def test_no_warning_while_the_page_already_shows_an_incident(
    tmp_path: Path, redis_url: str, key_prefix: str, feeds: FeedServer, target: ProbeTarget,
    fake_slack: FakeSlack, fake_twilio: FakeTwilio, fake_smtp: FakeSmtp,
) -> None:  # fmt: skip
    run = _run(tmp_path, redis_url, key_prefix, feeds, target, fake_slack, fake_twilio, fake_smtp)
    incident = FakeIncident("oai0002", "Elevated errors")
    incident.add("investigating", "2024-12-26T18:30:00.000Z", "Investigating.")
    feeds.put(SUMMARY, summary_json([incident]))
    ingest.poll(run.rt, "openai", run, T0)
    before = len(fake_slack.messages)
    target.status = 502
    assert [_probe(run, s) for s in (30, 60, 90, 120)] == [None] * 4
    assert len(fake_slack.messages) == before


def test_probes_are_head_or_get_with_a_header_only_from_the_environment(
    tmp_path: Path, redis_url: str, key_prefix: str, target: ProbeTarget,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from notifier.config.load import ConfigError, load_config

    monkeypatch.setenv("ACME_PROBE_KEY", "Bearer sk-probe-secret")
    config = tmp_path / "s.yaml"
    config.write_text(
        "providers:\n  - id: openai\n"
        f"    probes: [{{url: '{target.url()}', method: HEAD, header: "
        "{name: Authorization, value_env: ACME_PROBE_KEY}}]\n"
        "subscribers:\n  - name: p\n    email: {to: [a@example.com]}\n"
    )
    loaded = load_config(config)
    assert "Bearer sk-probe-secret" in loaded.secret_values()
    assert "sk-probe-secret" not in repr(loaded.resolved_providers())
    config.write_text(config.read_text().replace("method: HEAD", "method: POST"))
    with pytest.raises(ConfigError):
        load_config(config)

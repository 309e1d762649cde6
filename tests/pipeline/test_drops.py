"""Nothing silently skipped: a backfilled incident is late news, and a rule that sends a
change nowhere says so at INFO and counts it in /metrics
(`notifier_events_dropped_total{reason}`). Through the service on a real Redis."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from notifier.pipeline.ingest import stage as ingest
from notifier.store.ops.metrics import render
from tests.fakes.twilio_api import FakeTwilio
from tests.support.feed_server import feed_server
from tests.support.handoff import InlineHandOff
from tests.support.runtime import build_runtime
from tests.support.statuspage_docs import FakeIncident, incidents_json

T0 = datetime(2025, 9, 26, 4, 30, tzinfo=UTC)


def test_a_backfilled_incident_reaching_only_a_pager_is_logged_and_counted_as_dropped(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    fake_twilio: FakeTwilio, caplog: pytest.LogCaptureFixture, local_fetches: None,
) -> None:  # fmt: skip
    caplog.set_level(logging.INFO)
    with feed_server() as feeds:
        rt = build_runtime(
            tmp_path, redis_url, key_prefix,
            "providers:\n  - id: acme\n    name: Acme Cloud\n"
            f"    feed: {{url: '{feeds.url('/h.json')}', format: statuspage-json}}\n"
            "subscribers:\n  - name: oncall\n    sms: {to: ['+15550100']}\n",
            twilio_account_sid=fake_twilio.account_sid, twilio_auth_token=fake_twilio.auth_token,
            twilio_from="+15550000", twilio_api_url=fake_twilio.url,
        )  # fmt: skip
        feeds.put("/h.json", incidents_json([]))
        # daily polls, no gap: the provider posts on 4 Oct an incident of 27 Sep
        for day in range(8):
            now = T0 + timedelta(days=day)
            if day == 7:
                late = FakeIncident("bf1", "Webhook delays", created_at="2025-09-27T10:00:00.000Z")
                late.add("resolved", "2025-09-27T11:00:00.000Z", "Webhook deliveries recovered.")
                feeds.put("/h.json", incidents_json([late]))
            d = InlineHandOff(rt, deliver=False, now=now)
            outcome = ingest.poll(rt, "acme", d, now)
        assert outcome.outcome == "changed" and outcome.events == 1  # not skipped
        assert d.delivered == [] and fake_twilio.sent == []  # late news never pages
    said = [r.getMessage() for r in caplog.records if r.name == "notifier.route.drops"]
    assert said == ["not sent: new_incident of acme/bf1 to oncall/sms (late_news_never_pages)"]
    assert all(
        r.levelno == logging.INFO for r in caplog.records if r.name == "notifier.route.drops"
    )
    metrics = render(redis_client, key_prefix, f"{key_prefix}:celery:").decode()
    assert 'notifier_events_dropped_total{reason="late_news_never_pages"} 1.0' in metrics


def test_quiet_hours_that_suppress_are_logged_and_counted(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    fake_twilio: FakeTwilio, caplog: pytest.LogCaptureFixture, local_fetches: None,
) -> None:  # fmt: skip
    caplog.set_level(logging.INFO)
    night = datetime(2025, 9, 26, 23, 0, tzinfo=UTC)
    with feed_server() as feeds:
        rt = build_runtime(
            tmp_path, redis_url, key_prefix,
            "providers:\n  - id: acme\n    name: Acme Cloud\n"
            f"    feed: {{url: '{feeds.url('/h.json')}', format: statuspage-json}}\n"
            "subscribers:\n  - name: oncall\n    sms: {to: ['+15550100']}\n"
            "    quiet_hours: {start: '22:00', end: '07:00', timezone: UTC, mode: suppress}\n",
            twilio_account_sid=fake_twilio.account_sid, twilio_auth_token=fake_twilio.auth_token,
            twilio_from="+15550000", twilio_api_url=fake_twilio.url,
        )  # fmt: skip
        feeds.put("/h.json", incidents_json([]))
        ingest.poll(rt, "acme", InlineHandOff(rt, deliver=False, now=night), night)
        inc = FakeIncident(
            "q1", "Slow dashboards", impact="minor", created_at="2025-09-26T23:01:00.000Z"
        )
        feeds.put(
            "/h.json",
            incidents_json([inc.add("investigating", "2025-09-26T23:01:00.000Z", "Slow.")]),
        )
        later = night + timedelta(minutes=5)
        d = InlineHandOff(rt, deliver=False, now=later)
        assert ingest.poll(rt, "acme", d, later).outcome == "changed"
        assert d.delivered == []
    said = [r.getMessage() for r in caplog.records if r.name == "notifier.route.drops"]
    assert said == ["not sent: new_incident of acme/q1 to oncall/sms (quiet_hours)"]
    metrics = render(redis_client, key_prefix, f"{key_prefix}:celery:").decode()
    assert 'notifier_events_dropped_total{reason="quiet_hours"} 1.0' in metrics

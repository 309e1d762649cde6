"""Quiet hours never hold an escalation: on a real Redis, with the real Slack and
Twilio clients against the fakes, a minor incident held at 23:00 that turns
critical at 23:10 pages at once, carrying what the held alert said, and the held
alert is not sent again when the quiet hours end."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from notifier.pipeline.delivery import release
from notifier.pipeline.delivery import stage as delivery
from notifier.pipeline.ingest import stage as ingest
from notifier.pipeline.runtime.due import Due
from notifier.pipeline.runtime.wiring import Runtime
from tests.fakes.slack_api import FakeSlack
from tests.fakes.twilio_api import FakeTwilio
from tests.support.feed_server import FeedServer, feed_server
from tests.support.handoff import InlineHandOff
from tests.support.runtime import build_runtime
from tests.support.statuspage_docs import FakeIncident, summary_json

# Its fake feed servers listen on 127.0.0.1, which the fetch guard refuses unless allowed.
pytestmark = pytest.mark.usefixtures("local_fetches")

NIGHT = datetime(2024, 12, 26, 23, 0, tzinfo=UTC)
MORNING = datetime(2024, 12, 27, 7, 0, tzinfo=UTC)
ONCALL = "+15550100"


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    with feed_server() as server:
        yield server


def _runtime(
    tmp_path: Path, redis_url: str, key_prefix: str, feed: str, slack: FakeSlack,
    twilio: FakeTwilio, sms_events: str,
) -> Runtime:  # fmt: skip
    return build_runtime(
        tmp_path, redis_url, key_prefix,
        "providers:\n  - id: acme\n    name: Acme Cloud\n"
        f"    feed: {{url: '{feed}', format: statuspage-json}}\n"
        "subscribers:\n  - name: platform\n    slack: {channel: '#vendor-status'}\n"
        f"    sms: {{to: ['{ONCALL}']}}\n"
        f"    channels_filters: {{sms: {{events: {sms_events}}}}}\n"
        "    quiet_hours: {start: '22:00', end: '07:00', timezone: UTC, mode: hold}\n",
        slack_token="xoxb-quiet-test", slack_api_url=slack.url,
        twilio_account_sid=twilio.account_sid, twilio_auth_token=twilio.auth_token,
        twilio_from="+15550000", twilio_api_url=twilio.url,
    )  # fmt: skip


def _poll(rt: Runtime, at: datetime) -> list[str]:
    """Poll and plan at `at`, deliver what is handed on; the statuses of the deliveries."""
    d = InlineHandOff(rt, deliver=False, now=at)
    assert ingest.poll(rt, "acme", d, at).outcome == "changed"
    return [delivery.attempt_one(rt, key, d, at).status for key in d.delivered]


@pytest.mark.parametrize(
    "sms_events", ["[new_incident, resolved]", "[new_incident, impact_changed, resolved]"]
)
def test_a_held_minor_incident_that_turns_critical_pages_at_once_with_the_held_content(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    feeds: FeedServer, fake_slack: FakeSlack, fake_twilio: FakeTwilio, sms_events: str,
) -> None:  # fmt: skip
    rt = _runtime(
        tmp_path, redis_url, key_prefix, feeds.url("/s.json"), fake_slack, fake_twilio,
        sms_events,
    )  # fmt: skip
    feeds.put("/s.json", summary_json([]))
    ingest.poll(
        rt,
        "acme",
        InlineHandOff(rt, deliver=False, now=NIGHT - timedelta(hours=1)),
        NIGHT - timedelta(hours=1),
    )
    minor = FakeIncident("q1", "Slow dashboard loads", impact="minor")
    minor.add("investigating", "2024-12-26T22:58:00Z", "Dashboards load slowly for some users.")
    feeds.put("/s.json", summary_json([minor]))

    assert _poll(rt, NIGHT) == []  # quiet hours: held, nothing sent
    assert fake_slack.messages == [] and fake_twilio.sent == []
    held = rt.due(Due.HELD).due(MORNING)
    assert len(held) == 2  # the Slack message and the page, both held until 07:00

    minor.impact = "critical"
    minor.add("identified", "2024-12-26T23:08:00Z", "All dashboards are down.")
    feeds.put("/s.json", summary_json([minor]))
    statuses = _poll(rt, NIGHT + timedelta(minutes=10))
    assert "delivered" in statuses

    (page,) = fake_twilio.to(ONCALL)  # paged at 23:10, not at 07:00
    assert page.startswith("[CRITICAL] Acme Cloud: Slow dashboard loads")
    parent = fake_slack.messages[0]  # the escalation opens the thread: it is the parent
    assert "thread_ts" not in parent or not parent["thread_ts"]
    text = str(parent["body"])
    assert "Held for quiet hours: Investigating, minor, since 23:00 UTC" in text
    assert "Dashboards load slowly for some users." in text
    assert "All dashboards are down." in text
    posted = len(fake_slack.messages)

    # 07:00: the held alerts are released, and were carried already: nothing is re-sent.
    sweep = InlineHandOff(rt, deliver=False, now=MORNING)
    assert release.release_held(rt, sweep, MORNING) == 2
    outcomes = {delivery.attempt_one(rt, key, sweep, MORNING).status for key in sweep.delivered}
    assert outcomes == {"already_skipped"}
    assert len(fake_twilio.to(ONCALL)) == 1
    assert len(fake_slack.messages) == posted


def test_a_critical_member_releases_a_follow_up_batch_held_for_quiet_hours(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    feeds: FeedServer, fake_twilio: FakeTwilio,
) -> None:  # fmt: skip
    deps = "".join(
        f"  - id: d{i}\n    name: Shop{i}\n"
        f"    feed: {{url: '{feeds.url(f'/d{i}.json')}', format: statuspage-json}}\n"
        "    depends_on: [acme]\n"
        for i in (1, 2)
    )
    rt = build_runtime(
        tmp_path, redis_url, key_prefix,
        "providers:\n  - id: acme\n    name: Acme Cloud\n"
        f"    feed: {{url: '{feeds.url('/acme.json')}', format: statuspage-json}}\n" + deps
        + f"subscribers:\n  - name: oncall\n    sms: {{to: ['{ONCALL}']}}\n"
        "    quiet_hours: {start: '22:00', end: '07:00', timezone: UTC, mode: hold}\n",
        twilio_account_sid=fake_twilio.account_sid, twilio_auth_token=fake_twilio.auth_token,
        twilio_from="+15550000", twilio_api_url=fake_twilio.url,
    )  # fmt: skip
    before = NIGHT - timedelta(hours=2)
    for name in ("acme", "d1", "d2"):
        feeds.put(f"/{name}.json", summary_json([]))
        ingest.poll(rt, name, InlineHandOff(rt, deliver=False, now=before), before)

    def down(provider: str, impact: str, at: datetime) -> list[str]:
        stamp = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        inc = FakeIncident(f"{provider}1", f"{provider} errors", impact=impact, created_at=stamp)
        feeds.put(f"/{provider}.json", summary_json([inc.add("investigating", stamp, "Errors.")]))
        d = InlineHandOff(rt, deliver=False, now=at)
        ingest.poll(rt, provider, d, at)
        return [delivery.attempt_one(rt, key, d, at).status for key in d.delivered]

    # 21:30, before quiet hours: Acme pages, and opens the cascade.
    assert down("acme", "critical", NIGHT - timedelta(minutes=90)) == ["delivered"]
    # 23:00: a major dependant joins: its follow-up is held until 07:00.
    assert down("d1", "major", NIGHT) == []
    assert len(fake_twilio.to(ONCALL)) == 1
    # 23:05: a critical one joins the same batch and releases it at once.
    assert down("d2", "critical", NIGHT + timedelta(minutes=5)) == ["delivered"]
    _page, follow_up = fake_twilio.to(ONCALL)
    assert follow_up.startswith("Also down: +Shop1 major; +Shop2 critical")
    sweep = InlineHandOff(rt, deliver=False, now=MORNING)
    release.release_held(rt, sweep, MORNING)
    for key in sweep.delivered:
        assert delivery.attempt_one(rt, key, sweep, MORNING).status.startswith("already_")
    assert len(fake_twilio.to(ONCALL)) == 2

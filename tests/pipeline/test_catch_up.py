"""Late news becomes one catch-up per subscriber, channel and gap, on Slack and email,
never SMS, never a page and never an incident thread of its own: table rows over the
planner, the renderings, and one poll through the service to the fake Slack."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from notifier.channels import kinds
from notifier.channels.console.text import render_text
from notifier.channels.email.channel import subject, text_body
from notifier.channels.render import Presentation
from notifier.models import AlertKind, ChangeEvent, EventKind, Gap, Impact, Update
from notifier.pipeline.delivery import stage as delivery
from notifier.pipeline.ingest import stage as ingest
from notifier.pipeline.plan.catchup import plan_catch_ups
from notifier.pipeline.plan.event import process_event
from notifier.store.delivery.alerts import InMemoryAlertStore
from notifier.store.delivery.status import AlertStatus
from notifier.store.delivery.threads import InMemoryThreadStore
from tests.fakes.slack_api import FakeSlack
from tests.fakes.twilio_api import FakeTwilio
from tests.planning_helpers import at, config, event, incident
from tests.support.feed_server import feed_server
from tests.support.handoff import InlineHandOff
from tests.support.runtime import build_runtime
from tests.support.statuspage_docs import FakeIncident, incidents_json

# Its fake feed servers listen on 127.0.0.1, which the fetch guard refuses unless allowed.
pytestmark = pytest.mark.usefixtures("local_fetches")

GAP = Gap(at("2025-06-03 06:40"), at("2025-06-07 06:38"))
NOW = GAP.end
EVERYONE = """
providers: [{id: github}, {id: openai}]
subscribers:
  - name: platform
    slack: {channel: "#status"}
    sms: {to: ["+15550100001"]}
    email: {to: [sre@example.com]}
"""


def _late(provider: str, iid: str, started: str, ended: str, *, impact: Impact = Impact.MAJOR,
          kind: EventKind = EventKind.NEW_INCIDENT, gap: Gap = GAP) -> ChangeEvent:  # fmt: skip
    inc = incident(provider, iid, started, resolved=ended, impact=impact, bodies=("Resolved.",))
    inc = replace(inc, updates=(Update(at(ended), inc.status, f"{iid} is fixed.", "k0"),))
    return replace(event(inc, kind, detected="2025-06-07 06:38", suffix=":late"), late=True,
                   gap=gap)  # fmt: skip


@dataclass(frozen=True)
class Row:
    name: str
    yaml: str
    events: tuple[ChangeEvent, ...]
    expected: tuple[tuple[str, str, tuple[str, ...]], ...]  # (subscriber, channel, incidents)


OTHER_GAP = Gap(at("2025-06-01 00:00"), at("2025-06-07 06:38"))
ROWS = [
    Row(
        "one poll's three late incidents: one catch-up on Slack and one on email, none on SMS",
        EVERYONE,
        (
            _late("github", "b", "2025-06-05 10:00", "2025-06-05 11:00"),
            _late("github", "a", "2025-06-04 09:00", "2025-06-04 09:30"),
            _late("github", "a", "2025-06-04 09:00", "2025-06-04 09:30", kind=EventKind.RESOLVED),
            _late("github", "c", "2025-06-05 12:00", "2025-06-05 12:05"),
        ),
        (("platform", "slack", ("a", "b", "c")), ("platform", "email", ("a", "b", "c"))),
    ),
    Row(
        "two providers' gaps: a catch-up for each",
        EVERYONE.replace("email: {to: [sre@example.com]}", ""),
        (
            _late("github", "a", "2025-06-04 09:00", "2025-06-04 09:30"),
            _late("openai", "x", "2025-06-02 09:00", "2025-06-02 10:00", gap=OTHER_GAP),
        ),
        (("platform", "slack", ("a",)), ("platform", "slack", ("x",))),
    ),
    Row(
        "filters decide who hears of each incident: min_impact leaves the minor one out",
        """
        providers: [{id: github}, {id: openai}]
        subscribers:
          - name: ops
            slack: {channel: "#ops"}
            filters: {min_impact: major}
          - name: web
            email: {to: [web@example.com]}
            filters: {providers: [openai]}
        """,
        (
            _late("github", "a", "2025-06-04 09:00", "2025-06-04 09:30"),
            _late("github", "m", "2025-06-04 10:00", "2025-06-04 10:30", impact=Impact.MINOR),
        ),
        (("ops", "slack", ("a",)),),
    ),
    Row(
        "an SMS-only subscriber hears nothing of late news",
        """
        providers: [{id: github}]
        subscribers:
          - name: oncall
            sms: {to: ["+15550100001"]}
        """,
        (_late("github", "a", "2025-06-04 09:00", "2025-06-04 09:30"),),
        (),
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_late_news_is_planned_as_catch_ups(row: Row) -> None:
    cfg = config(row.yaml)
    store = InMemoryAlertStore()
    alerts = plan_catch_ups(row.events, cfg, store, NOW, pages_only=kinds.pages_only())
    got = tuple(
        (a.subscriber, a.channel, tuple(e.incident_id for e in a.caught_up)) for a in alerts
    )
    assert got == row.expected
    assert all(a.kind is AlertKind.CATCH_UP and not a.page for a in alerts)
    assert len({a.dedup_key for a in alerts}) == len(alerts)
    # claimed once: planning the same poll again hands on the same, still pending, alerts
    again = plan_catch_ups(row.events, cfg, store, NOW, pages_only=kinds.pages_only())
    assert [a.dedup_key for a in again] == [a.dedup_key for a in alerts]
    for a in alerts:
        store.finish(a.dedup_key, AlertStatus.DELIVERED)
    assert plan_catch_ups(row.events, cfg, store, NOW, pages_only=kinds.pages_only()) == []


def test_a_late_event_never_opens_a_thread_nor_pages() -> None:
    threads, store = InMemoryThreadStore(), InMemoryAlertStore()
    late = _late("github", "a", "2025-06-04 09:00", "2025-06-04 09:30")
    planned = process_event(
        late, config(EVERYONE), [late.incident], threads, store, NOW,
        pages_only=kinds.pages_only(),
    )  # fmt: skip
    assert planned == []
    assert threads.get(("platform", "slack"), ("github", "a")) is None


def test_a_catch_up_reads_as_one_message_with_times_and_final_words() -> None:
    cfg = config(EVERYONE)
    events = (
        _late("github", "a", "2025-06-04 09:00", "2025-06-04 09:30"),
        _late("github", "b", "2025-06-05 10:00", "2025-06-05 11:00"),
    )
    slack, email = plan_catch_ups(
        events, cfg, InMemoryAlertStore(), NOW, pages_only=kinds.pages_only()
    )
    p = Presentation(names={"github": "GitHub"})
    assert render_text(slack, p).splitlines() == [
        "[CATCH-UP] While notifier was not watching GitHub (Jun 3 06:40 – Jun 7 06:38 UTC) "
        "it had 2 incidents:",
        "  - Elevated errors (major), Jun 4 09:00 – Jun 4 09:30 UTC: a is fixed.",
        "  - Elevated errors (major), Jun 5 10:00 – Jun 5 11:00 UTC: b is fixed.",
    ]
    assert subject(email, p) == "[GitHub] Catch-up: 2 incidents while notifier was not watching"
    assert "Jun 5 10:00 – Jun 5 11:00 UTC: b is fixed." in text_body(email, p)


def test_a_poll_after_days_away_posts_one_catch_up_to_slack_and_pages_nobody(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    fake_slack: FakeSlack, fake_twilio: FakeTwilio,
) -> None:  # fmt: skip
    t0 = datetime(2025, 6, 3, 6, 40, tzinfo=UTC)
    with feed_server() as feeds:
        rt = build_runtime(
            tmp_path, redis_url, key_prefix,
            "providers:\n  - id: acme\n    name: Acme Cloud\n"
            f"    feed: {{url: '{feeds.url('/h.json')}', format: statuspage-json}}\n"
            "subscribers:\n  - name: platform\n    slack: {channel: '#vendor-status'}\n"
            "    sms: {to: ['+15550100']}\n",
            slack_token="xoxb-catch-up", slack_api_url=fake_slack.url,
            twilio_account_sid=fake_twilio.account_sid,
            twilio_auth_token=fake_twilio.auth_token, twilio_from="+15550000",
            twilio_api_url=fake_twilio.url,
        )  # fmt: skip
        feeds.put("/h.json", incidents_json([]))
        ingest.poll(rt, "acme", InlineHandOff(rt, deliver=False, now=t0), t0)  # the baseline
        gone = []
        for day, (start, end) in enumerate([("09:00", "09:40"), ("13:00", "15:10")], start=4):
            inc = FakeIncident(
                f"late{day}", f"Outage {day}", created_at=f"2025-06-0{day}T{start}:00Z"
            )
            inc.add("investigating", f"2025-06-0{day}T{start}:00Z", "Looking into it.")
            gone.append(inc.add("resolved", f"2025-06-0{day}T{end}:00Z", f"Fixed on day {day}."))
        feeds.put("/h.json", incidents_json(gone))
        later = t0 + timedelta(days=4) - timedelta(minutes=2)
        d = InlineHandOff(rt, deliver=False, now=later)
        assert ingest.poll(rt, "acme", d, later).outcome == "changed"
        statuses = [delivery.attempt_one(rt, key, d, later).status for key in d.delivered]
    assert statuses == ["delivered"]  # one catch-up; no page, no incident thread
    (message,) = fake_slack.messages
    body = str(message["body"])
    assert "While notifier was not watching Acme Cloud (Jun 3 06:40 – Jun 7 06:38 UTC)" in body
    assert "it had 2 incidents" in body
    assert "Fixed on day 4." in body and "Fixed on day 5." in body
    assert fake_twilio.sent == []

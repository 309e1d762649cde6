"""The console's Reliability page: the month's record per provider and component, the
delivery record, a calendar heatmap of impact per day and bars per month, drawn as SVG
on the server; checked over HTTP and in Debian's Chromium (Playwright), where hostile
incident text stays text."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from notifier.config.load import load_config
from notifier.history import db
from notifier.history.apply import gather, write
from notifier.history.importer import import_incidents
from notifier.models import Impact, Incident, IncidentKind, Status, Update
from notifier.pipeline.runtime.health import Limits
from notifier.store.ops import outbox
from notifier.store.ops.outbox import OutboxEntry
from notifier.web.app import create_app
from notifier.web.serving.serve import WebThread, bind
from notifier.web.wiring import WebWiring
from tests.support.browser import chromium

CLOCK = datetime(2025, 12, 2, 12, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)> API errors"
CONFIG = """\
providers:
  - id: acme
    name: Acme Cloud
    feed: {url: "https://status.acme.example/api/v2/summary.json", format: statuspage-json}
subscribers:
  - name: platform
    slack: {channel: "#vendor-status"}
"""


def _inc(n: int, day: int, minutes: int, impact: Impact, title: str = "Trouble") -> Incident:
    start = datetime(2025, 11, day, 10, tzinfo=UTC)
    end = start + timedelta(minutes=minutes)
    return Incident("acme", f"acme{n}", title, None, Status.RESOLVED, impact,
                    IncidentKind.INCIDENT, start, end, end, ("API",),
                    updates=(Update(start, Status.INVESTIGATING, "Looking", "u1"),
                             Update(end, Status.RESOLVED, "Fixed", "u2")))  # fmt: skip


def _told(url: str) -> None:
    """acme1 paged the platform team, and Ana acknowledged it."""
    at = datetime(2025, 11, 3, 10, 4, tzinfo=UTC)
    alert = {"dedup_key": "k1", "thread_key": "t1", "kind": "new", "subscriber": "platform",
             "channel": "sms", "page": True, "event_id": "e1", "provider": "acme",
             "incident_id": "acme1", "detected_at": "2025-11-03T10:03:00Z",
             "attached_to": None}  # fmt: skip
    page = {"id": "p1", "dedup_key": "k1", "thread_key": "t1", "subscriber": "platform",
            "order": [["Ana", "+15550100"], ["Bo", "+15550101"]], "level": 0, "escalates": True,
            "last_paged_at": "2025-11-03T10:04:00Z", "acked_by": None, "acked_at": None,
            "resolved_at": None, "detected_at": "2025-11-03T10:03:00Z"}  # fmt: skip
    entries = [
        OutboxEntry(outbox.ALERT, at, alert),
        OutboxEntry(outbox.ATTEMPT, at, {"dedup_key": "k1", "attempt": 0, "channel": "sms",
                                   "subscriber": "platform", "fallback_of": ""}),
        OutboxEntry(outbox.PAGE, at, page),
        OutboxEntry(outbox.FINISH, at, {"dedup_key": "k1", "outcome": "delivered",
                                  "message_id": "SM1", "error": ""}),
        OutboxEntry(outbox.ACK, at, {"page_id": "p1", "by": "Ana", "at": "2025-11-03T10:09:00Z"}),
    ]  # fmt: skip
    with db.engine_for(url).begin() as conn:
        write(conn, gather(entries, {}))


@pytest.fixture
def site(history_url: str, tmp_path: Path, redis_url: str) -> Iterator[str]:
    incidents = [_inc(1, 3, 90, Impact.MAJOR, HOSTILE), _inc(2, 10, 30, Impact.MINOR),
                 _inc(3, 20, 240, Impact.CRITICAL)]  # fmt: skip
    import_incidents(db.engine_for(history_url), incidents, {"acme": "Acme Cloud"})
    _told(history_url)
    config = tmp_path / "subscriptions.yaml"
    config.write_text(CONFIG)
    prefix = f"notifier-test:{uuid.uuid4().hex[:12]}"
    client = redis.Redis.from_url(redis_url)
    ctx = WebWiring(client, prefix, f"{prefix}:celery:", Limits(5.0, 120.0),
                     config=load_config(config), clock=lambda: CLOCK,
                     database_url=history_url)  # fmt: skip
    web = WebThread(create_app(ctx), bind("127.0.0.1", 0)).start()
    try:
        yield web.url
    finally:
        web.stop()
        client.close()


def test_the_page_shows_the_months_record_and_who_was_told(site: str) -> None:
    got = httpx.get(f"{site}/reliability?provider=acme&month=2025-11")
    assert got.status_code == 200
    body = got.text
    assert 'href="/reliability"' in body  # the nav entry
    assert 'class="heatmap"' in body and 'class="months"' in body
    assert body.count('class="day"') == 365
    assert 'data-date="2025-11-20" data-impact="critical"' in body
    assert 'data-date="2025-11-03" data-impact="major"' in body
    assert 'data-month="2025-11" data-minutes="360"' in body
    assert "&lt;script&gt;" in body and "<script>alert" not in body
    assert "Ana at 03 Nov 10:09 UTC" in body


def test_a_bad_month_is_a_clear_400(site: str) -> None:
    got = httpx.get(f"{site}/reliability?month=November")
    assert got.status_code == 400 and "write it as 2025-11" in got.text


def test_the_reliability_page_renders_in_chromium(site: str, tmp_path: Path) -> None:
    with chromium() as browser:
        page: Any = browser.new_page(viewport={"width": 1200, "height": 900})
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{site}/")
        page.click("nav >> text=Reliability")
        page.wait_for_url("**/reliability")
        page.goto(f"{site}/reliability?provider=acme&month=2025-11")
        assert page.locator("svg.heatmap rect.day").count() == 365
        critical = page.locator('svg.heatmap rect.day[data-impact="critical"]')
        assert critical.count() == 1 and critical.bounding_box()["width"] > 5
        assert page.locator("svg.months g.month").count() == 12
        bars = page.locator('svg.months g.month[data-month="2025-11"] rect.month-bar')
        assert bars.count() == 3 and bars.first.bounding_box()["height"] > 1
        row = page.locator('#reliability-table tr.stats[data-component=""]')
        assert row.locator("td").nth(2).inner_text() == "3"
        told = page.locator("#delivery-record tr.told-row")
        assert told.count() == 1 and "Ana" in told.inner_text()
        assert HOSTILE in page.locator("#delivery-record").inner_text()
        page.screenshot(path=str(tmp_path / "reliability.png"), full_page=True)
        assert (tmp_path / "reliability.png").stat().st_size > 10_000
        assert dialogs == []

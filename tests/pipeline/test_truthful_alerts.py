"""Every alert tells the truth, end to end: a real local Statuspage (summary.json and
its incidents.json history over HTTP), the service's poll → process → deliver run
inline on a real Redis, and the fake Slack's messages at the end."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from notifier.pipeline.ingest import stage as ingest
from notifier.pipeline.runtime.due import Due
from tests.fakes.slack_api import FakeSlack
from tests.support.feed_server import FeedServer, feed_server
from tests.support.handoff import InlineHandOff
from tests.support.runtime import build_runtime
from tests.support.statuspage_docs import FakeIncident, incidents_json, summary_json

# Its fake feed servers listen on 127.0.0.1, which the fetch guard refuses unless allowed.
pytestmark = pytest.mark.usefixtures("local_fetches")

T0 = datetime(2024, 12, 26, 19, 5, tzinfo=UTC)
SUMMARY, HISTORY = "/api/v2/summary.json", "/api/v2/incidents.json"


def _poll(run: InlineHandOff, minutes: float) -> str:
    run.now = T0 + timedelta(minutes=minutes)
    return ingest.poll(run.rt, "acme", run, run.now).outcome


@pytest.fixture
def served(fake_slack: FakeSlack) -> Iterator[tuple[FeedServer, FakeSlack]]:
    with feed_server() as feeds:
        yield feeds, fake_slack


def _inline(
    tmp_path: Path, redis_url: str, key_prefix: str, feed: str, slack: FakeSlack
) -> InlineHandOff:
    return InlineHandOff(build_runtime(
        tmp_path, redis_url, key_prefix,
        "providers:\n  - id: acme\n    name: Acme Cloud\n"
        f"    feed: {{url: '{feed}', format: statuspage-json}}\n"
        "subscribers:\n  - name: platform\n    slack: {channel: '#vendor-status'}\n",
        slack_token="xoxb-truth-test", slack_api_url=slack.url,
    ), T0)  # fmt: skip


def _text(message: dict[str, Any]) -> str:
    """What a reader sees of a Slack message: its sections' text."""
    return "\n".join(
        b["text"]["text"] for b in message["blocks"] if b["type"] == "section" and "text" in b
    )


def test_resolved_with_the_final_words_a_reopen_once_and_each_update_under_its_own_status(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    served: tuple[FeedServer, FakeSlack],
) -> None:  # fmt: skip
    feeds, slack = served
    incident = FakeIncident("k7truth00001", "Elevated API errors")
    incident.add("investigating", "2024-12-26T19:00:00.000Z", "We are investigating errors.")
    feeds.put(SUMMARY, summary_json([incident]))
    feeds.put(HISTORY, incidents_json([incident]))
    run = _inline(tmp_path, redis_url, key_prefix, feeds.url(SUMMARY), slack)
    assert _poll(run, 0) == "changed"
    (parent,) = slack.messages

    # Two updates posted between polls, then the incident closes: the list drops it and
    # its history holds a monitoring update and the final words.
    incident.add("monitoring", "2024-12-26T19:30:00.000Z", "A fix is rolling out.")
    incident.add("resolved", "2024-12-26T19:40:00.000Z", "Fixed: error rates are normal.")
    feeds.put(SUMMARY, summary_json([incident]))  # active only: it is gone from it
    feeds.put(HISTORY, incidents_json([incident]))
    assert _poll(run, 41) == "changed"
    # seen in one poll: one reply, the resolution, listing both updates in order
    (resolved,) = slack.thread(parent["ts"])
    said = _text(resolved)
    assert said.startswith("*Resolved* after 40m · 2024-12-26 19:40 UTC")
    assert said.index("19:30 Monitoring: A fix is rolling out.") < said.index(
        "19:40 Resolved: Fixed: error rates are normal."
    )
    assert resolved["text"].startswith("Resolved:")  # the notification line: the latest
    assert feeds.hits[HISTORY] == 1  # looked up once

    # Errors are back: listed open again with a new update. One reply, not two.
    incident.add("investigating", "2024-12-26T20:00:00.000Z", "Errors are back; investigating.")
    feeds.put(SUMMARY, summary_json([incident]))
    assert _poll(run, 61) == "changed"
    replies = slack.thread(parent["ts"])
    assert len(replies) == 2
    assert "Errors are back; investigating." in _text(replies[-1])
    assert _poll(run, 62) in ("not_modified", "unchanged")
    assert len(slack.messages) == 3  # the parent and two replies, nothing twice


def test_a_one_poll_glitch_posts_nothing_and_an_unconfirmed_resolution_says_so(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    served: tuple[FeedServer, FakeSlack],
) -> None:  # fmt: skip
    feeds, slack = served
    incident = FakeIncident("k7truth00002", "Slow dashboard")
    incident.add("investigating", "2024-12-26T19:00:00.000Z", "Dashboards load slowly.")
    feeds.put(SUMMARY, summary_json([incident]))  # no history served: lookups get a 404
    run = _inline(tmp_path, redis_url, key_prefix, feeds.url(SUMMARY), slack)
    _poll(run, 0)
    feeds.put(SUMMARY, summary_json([]))  # a half-rendered page, once
    _poll(run, 1)
    feeds.put(SUMMARY, summary_json([incident]))
    _poll(run, 2)
    assert len(slack.messages) == 1  # no false "Resolved"
    feeds.put(SUMMARY, summary_json([]))
    _poll(run, 3)
    _poll(run, 4)  # the same document again: read in full to confirm the absence
    (resolved,) = slack.thread(slack.messages[0]["ts"])
    assert "No longer listed on Acme Cloud's status page as of 19:08 UTC" in _text(resolved)
    assert "no final update was published" in _text(resolved)
    assert "Dashboards load slowly." not in _text(resolved)  # no older update re-quoted
    # The history appears later: the final words are posted once, in the thread.
    incident.add("resolved", "2024-12-26T19:09:00.000Z", "Dashboards are fast again.")
    feeds.put(HISTORY, incidents_json([incident]))
    due = run.rt.due(Due.FINAL_LOOKUPS)
    assert len(due) == 1
    run.now = T0 + timedelta(minutes=30)
    assert ingest.look_for_final_words(run.rt, run, run.now) == 1
    assert ingest.look_for_final_words(run.rt, run, run.now + timedelta(hours=13)) == 0
    replies = slack.thread(slack.messages[0]["ts"])
    assert len(replies) == 2 and "Dashboards are fast again." in _text(replies[-1])
    assert len(due) == 0

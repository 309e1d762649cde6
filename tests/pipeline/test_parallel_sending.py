"""A chunk of a fan-out overlaps its vendors' waits, bounded by the in-flight limit, and
still sends each alert once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from notifier.channels.base import DeliveryError, NotYet
from notifier.pipeline.delivery import parallel
from notifier.pipeline.delivery import stage as delivery
from notifier.pipeline.ingest import stage as ingest
from notifier.pipeline.plan import stage as plan
from notifier.pipeline.runtime.wiring import Runtime, utcnow
from tests.fakes.slack_api import FakeSlack
from tests.pipeline.test_stages import NOW, _incident
from tests.support.feed_server import FeedServer, feed_server
from tests.support.handoff import InlineHandOff
from tests.support.runtime import build_runtime
from tests.support.statuspage_docs import summary_json

# Its fake feed servers listen on 127.0.0.1, which the fetch guard refuses unless allowed.
pytestmark = pytest.mark.usefixtures("local_fetches")


def _fan_out(
    tmp_path: Path, redis_url: str, key_prefix: str, feeds: FeedServer, slack: FakeSlack,
    teams: int, in_flight: int,
) -> tuple[Runtime, list[str]]:  # fmt: skip
    feeds.put("/s.json", summary_json([_incident(("investigating", "2024-12-26T19:00:00Z"))]))
    rt = build_runtime(
        tmp_path, redis_url, key_prefix,
        "providers:\n  - id: acme\n    name: Acme Cloud\n"
        f"    feed: {{url: '{feeds.url('/s.json')}', format: statuspage-json}}\n"
        "subscribers:\n"
        + "".join(f"  - name: team{n}\n    slack: {{channel: '#team{n}'}}\n" for n in range(teams)),
        slack_token="xoxb-service-test", slack_api_url=slack.url, delivery_in_flight=in_flight,
    )  # fmt: skip
    d = InlineHandOff(rt, NOW, plan=False, deliver=False)
    ingest.poll(rt, "acme", d, NOW)
    plan.process(rt, d.processed[0], d, NOW)
    return rt, d.delivered


@pytest.mark.parametrize("in_flight", [8, 4])
def test_a_chunk_sends_as_many_at_once_as_its_in_flight_limit(
    tmp_path: Path, redis_url: str, key_prefix: str, fake_slack: FakeSlack, in_flight: int
) -> None:
    with feed_server() as feeds:
        rt, keys = _fan_out(tmp_path, redis_url, key_prefix, feeds, fake_slack, 8, in_flight)
        # Slack answers only when `in_flight` requests are out at once: fewer would stall
        # the chunk (the fake gives up holding after 10 s), more would show.
        fake_slack.answer_in_rounds(in_flight)
        result = delivery.deliver_keys(
            rt, keys, InlineHandOff(rt, NOW, plan=False, deliver=False), NOW
        )
    assert (result.delivered, result.waiting) == (8, ())
    assert (fake_slack.most_in_flight, fake_slack.short_rounds) == (in_flight, 0)
    posted = Counter(str(m["body"]["channel"]) for m in fake_slack.messages)
    assert posted == {f"#team{n}": 1 for n in range(8)}


def test_a_vendor_failure_stops_the_chunk_and_the_rest_waits_for_the_retry(
    tmp_path: Path, redis_url: str, key_prefix: str, fake_slack: FakeSlack
) -> None:
    with feed_server() as feeds:
        rt, keys = _fan_out(tmp_path, redis_url, key_prefix, feeds, fake_slack, 6, 1)
        fake_slack.fail_next(1, status=503)
        delivered = delivery.deliver_chunk(
            rt, keys, InlineHandOff(rt, NOW, plan=False, deliver=False), NOW
        )
        # scheduled from the vendor's answer, on the wall clock
        retrying = rt.retries.due(utcnow() + timedelta(days=1))
    assert delivered == 0 and not fake_slack.messages
    assert sorted(k for k, _ in retrying) == sorted(keys)  # each waits for its next attempt


def test_a_wait_for_its_turn_holds_one_alert_and_the_others_go_on() -> None:
    sent: list[str] = []
    lock = threading.Lock()

    def deliver(key: str) -> None:
        if key == "b":
            raise NotYet("its channel's turn", retry_after=1.0)
        with lock:
            sent.append(key)

    waiting = parallel.deliver_all(["a", "b", "c", "d"], deliver, in_flight=2)
    assert sorted(sent) == ["a", "c", "d"]
    assert [(k, type(e)) for k, e in waiting] == [("b", NotYet)]


def test_our_own_failure_is_raised_once_the_started_deliveries_end() -> None:
    ended: list[str] = []
    both = threading.Barrier(2, timeout=5)

    def deliver(key: str) -> None:
        both.wait()  # both started
        if key == "a":
            raise ConnectionError("Redis went away")
        time.sleep(0.05)
        ended.append(key)

    with pytest.raises(ConnectionError):
        parallel.deliver_all(["a", "b"], deliver, in_flight=2)
    assert ended == ["b"]  # not abandoned mid-request


def test_a_transient_error_is_returned_with_each_key_it_held_back() -> None:
    failure = DeliveryError("slack: HTTP 503", permanent=False)

    def deliver(key: str) -> None:
        if key == "a":
            raise failure

    waiting = parallel.deliver_all(["a", "b", "c"], deliver, in_flight=1)
    assert waiting == [("a", failure), ("b", failure), ("c", failure)]

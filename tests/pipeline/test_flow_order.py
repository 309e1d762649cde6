"""One event, followed from the poll to the Slack post, visits the stages in the order
of the package map (docs/architecture.md): feeds → diff → annotate → route → channels.

A profiler records every call the pipeline makes into a stage package. The store, the
configuration and the models are the shared lower layers: any stage may use them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import pytest
import redis

from notifier.config.load import load_config
from notifier.config.settings import Settings
from notifier.pipeline import service
from tests.fakes.slack_api import FakeSlack
from tests.support.feed_server import FeedServer, feed_server
from tests.support.statuspage_docs import FakeIncident, summary_json

# Its fake feed servers listen on 127.0.0.1, which the fetch guard refuses unless allowed.
pytestmark = pytest.mark.usefixtures("local_fetches")

NOW = datetime(2024, 12, 26, 19, 5, tzinfo=UTC)
STAGES = ["feeds", "diff", "annotate", "route", "channels"]


def _stage(frame: FrameType | None) -> str | None:
    name = frame.f_globals.get("__name__", "") if frame is not None else ""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "notifier" else None


class Follow:
    """Runs each stage at once, in this process, the way the tasks would, one event at a
    time; `visits[i]` are the stage packages the pipeline entered for the i-th step."""

    def __init__(self, rt: service.Runtime) -> None:
        self.rt = rt
        self.visits: list[list[str]] = [[]]

    def profile(self, frame: FrameType, event: str, _arg: object) -> None:
        if event != "call" or _stage(frame.f_back) != "pipeline":
            return
        stage, seen = _stage(frame), self.visits[-1]
        if stage in STAGES and (not seen or seen[-1] != stage):
            seen.append(stage)

    def process(self, event_ids: Sequence[str]) -> None:
        for event_id in event_ids:
            service.process(self.rt, [event_id], self, NOW)
            self.visits.append([])  # the next event starts its own walk

    def deliver(self, dedup_keys: Sequence[str], attempt: int = 0) -> None:
        for key in dedup_keys:
            service.deliver(self.rt, key, self, NOW, attempt)


@pytest.fixture
def served(fake_slack: FakeSlack) -> Iterator[tuple[FeedServer, FakeSlack]]:
    with feed_server() as feeds:
        yield feeds, fake_slack


def test_one_event_passes_through_each_stage_once_in_the_order_of_the_map(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    served: tuple[FeedServer, FakeSlack],
) -> None:  # fmt: skip
    feeds, slack = served
    incident = FakeIncident("k7flow000001", "Elevated API errors")
    incident.add("investigating", "2024-12-26T19:00:00Z", "We are investigating.")
    feeds.put("/s.json", summary_json([incident]))
    config = tmp_path / "subscriptions.yaml"
    config.write_text(
        "providers:\n  - id: acme\n    name: Acme Cloud\n"
        f"    feed: {{url: '{feeds.url('/s.json')}', format: statuspage-json}}\n"
        "subscribers:\n  - name: platform\n    slack: {channel: '#vendor-status'}\n"
    )
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, config=config, key_prefix=key_prefix,
        slack_token="xoxb-flow-test", slack_api_url=slack.url,
    )  # fmt: skip
    follow = Follow(service.Runtime.build(settings, redis_url, load_config(config)))
    sys.setprofile(follow.profile)
    try:
        outcome = service.poll(follow.rt, "acme", follow, NOW)
    finally:
        sys.setprofile(None)
    assert outcome.outcome == "changed"
    assert len(slack.messages) == 1  # the new incident reached Slack, once
    # The incident and its first update are one event (one message): planned once.
    (opened,) = [v for v in follow.visits if v]
    assert opened == STAGES

"""One event, followed from the poll to the Slack post, visits the stages in the order
of the package map (docs/architecture.md): feeds → diff → annotate → route → channels,
and enters each pipeline stage once, in order: ingest → plan → delivery.

It runs through the real hand-off (`notifier.pipeline.handoff`) and the real entry
functions of each stage, as the Celery tasks call them; only the queues run at once,
in this process. A profiler records every call the pipeline makes into a stage
package. The store, the configuration and the models are the shared lower layers:
any stage may use them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

import pytest
import redis

from notifier.pipeline.delivery import stage as delivery
from notifier.pipeline.handoff import HandOff, Lane
from notifier.pipeline.ingest import stage as ingest
from notifier.pipeline.plan import stage as plan
from notifier.pipeline.runtime.wiring import Runtime
from tests.fakes.slack_api import FakeSlack
from tests.support.feed_server import FeedServer, feed_server
from tests.support.runtime import build_runtime, one_slack_route
from tests.support.statuspage_docs import FakeIncident, summary_json

# Its fake feed servers listen on 127.0.0.1, which the fetch guard refuses unless allowed.
pytestmark = pytest.mark.usefixtures("local_fetches")

NOW = datetime(2024, 12, 26, 19, 5, tzinfo=UTC)
STAGES = ["feeds", "diff", "annotate", "route", "channels"]
# The entry functions the tasks call, one per stage (`workers.tasks`).
STAGE_ENTRIES = [
    (ingest, "poll"),
    (plan, "process"),
    (plan, "plan_chunk"),
    (delivery, "deliver"),
    (delivery, "deliver_chunk"),
]


def _stage(frame: FrameType | None) -> str | None:
    name = frame.f_globals.get("__name__", "") if frame is not None else ""
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "notifier" else None


class Follow:
    """Records the stage packages the pipeline entered (`visits[i]`: for the i-th event)
    and each stage entry function called (`entered`)."""

    def __init__(self) -> None:
        self.visits: list[list[str]] = [[]]
        self.entered: list[str] = []

    def profile(self, frame: FrameType, event: str, _arg: object) -> None:
        if event != "call" or _stage(frame.f_back) != "pipeline":
            return
        stage, seen = _stage(frame), self.visits[-1]
        if stage in STAGES and (not seen or seen[-1] != stage):
            seen.append(stage)

    def wrap(self, monkeypatch: pytest.MonkeyPatch, module: ModuleType, name: str) -> None:
        """Record every call of the stage entry `module.name`, by its module."""
        real = getattr(module, name)

        def entry(*args: Any, **kwargs: Any) -> Any:
            self.entered.append(module.__name__)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, entry)


class Queues:
    """The hand-off's queues, each message run at once through the stage's entry (as
    `workers.tasks` does); the next event starts its own walk."""

    def __init__(self, rt: Runtime, follow: Follow) -> None:
        self.rt, self.follow = rt, follow
        self.handoff = HandOff(self.rt, self, plan_inline=self.plan_now)

    def plan_now(self, event_ids: Sequence[str], handoff: HandOff) -> None:
        for event_id in event_ids:
            plan.process(self.rt, [event_id], handoff, NOW)
            self.follow.visits.append([])

    def plan(self, event_ids: list[str]) -> None:
        self.plan_now(event_ids, self.handoff)

    def plan_chunk(self, event_ids: list[str], number: int, subscribers: list[str]) -> None:
        plan.plan_chunk(self.rt, event_ids, number, subscribers, self.handoff, NOW)

    def deliver(self, dedup_key: str, lane: Lane) -> None:
        delivery.deliver(self.rt, dedup_key, self.handoff, NOW)

    def deliver_chunk(self, dedup_keys: list[str], lane: Lane) -> None:
        delivery.deliver_chunk(self.rt, dedup_keys, self.handoff, NOW)


@pytest.fixture
def served(fake_slack: FakeSlack) -> Iterator[tuple[FeedServer, FakeSlack]]:
    with feed_server() as feeds:
        yield feeds, fake_slack


def test_one_event_passes_through_each_stage_once_in_the_order_of_the_map(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    served: tuple[FeedServer, FakeSlack], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    feeds, slack = served
    incident = FakeIncident("k7flow000001", "Elevated API errors")
    incident.add("investigating", "2024-12-26T19:00:00Z", "We are investigating.")
    feeds.put("/s.json", summary_json([incident]))
    rt = build_runtime(
        tmp_path, redis_url, key_prefix,
        one_slack_route(feeds.url("/s.json")),
        slack_token="xoxb-flow-test", slack_api_url=slack.url,
    )  # fmt: skip
    follow = Follow()
    for module, name in STAGE_ENTRIES:
        follow.wrap(monkeypatch, module, name)
    queues = Queues(rt, follow)
    sys.setprofile(follow.profile)
    try:
        outcome = ingest.poll(queues.rt, "acme", queues.handoff, NOW)
    finally:
        sys.setprofile(None)
    assert outcome.outcome == "changed"
    assert len(slack.messages) == 1  # the new incident reached Slack, once
    # The incident and its first update are one event (one message): planned once.
    (opened,) = [v for v in follow.visits if v]
    assert opened == STAGES
    # Each stage's module entered once, in the order of the flow.
    assert follow.entered == [
        "notifier.pipeline.ingest.stage",
        "notifier.pipeline.plan.stage",
        "notifier.pipeline.delivery.stage",
    ]

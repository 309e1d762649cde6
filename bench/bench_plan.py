"""Planning a 30,000-route fan-out in chunks, and the Redis round trips it costs.

One provider, `subscribers` subscribers with a Slack channel each. This process polls
the incident, then runs the real `plan.stage.process` with the real `HandOff`
over queues that only count their messages (each message is one broker round trip),
and plans every chunk task it queued with the real `plan.stage.plan_chunk`, one after
another, timing each (the workers run them side by side; here they share one CPU).
Every Redis request of the notifier client is counted (a pipeline or script is one).

Reported: that the fan-out completes (every route claimed once, the event processed,
nothing quarantined), the time per chunk and in all, the Redis round trips of planning
and publishing per alert (broker messages included), and those of delivering per alert
(the first attempt of a chunk to a fake Slack that answers at once), counted once the
Redis pool is warm (a second chunk), with the first chunk's in the note; the Redis
commands those round trips carry; and the CPU time of one delivery on its own thread
(a third slice of alerts, delivered one after another), with the Redis client's parser.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.support import (
    LOCAL_NETWORKS,
    CollectEvents,
    Row,
    StampedFeedServer,
    TimedSlack,
    percentile,
    row,
    run_isolated,
    slack_teams_config,
)
from notifier.config.load import load_config
from notifier.config.settings import Settings
from notifier.pipeline.delivery import stage as delivery
from notifier.pipeline.delivery.retry import INFRASTRUCTURE
from notifier.pipeline.handoff import HandOff, Lane
from notifier.pipeline.ingest import stage as ingest
from notifier.pipeline.plan import stage as plan
from notifier.pipeline.plan.fanout import PlanLater
from notifier.pipeline.runtime.wiring import Runtime, utcnow
from tests.support.roundtrips import RoundTrips, warm_pool
from tests.support.statuspage_docs import FakeIncident, summary_json

NAME = "plan"
FEED = "/plan/api/v2/summary.json"
TARGET_TRIPS = 3.0  # Redis round trips per alert to plan and publish it
TARGET_DELIVER_TRIPS = 3.0  # and to deliver it (the first attempt of a chunk)


class _Queues:
    """A harness's queues that only count: one message = one broker round trip."""

    def __init__(self) -> None:
        self.messages = 0
        self.chunks: list[tuple[list[str], int, list[str]]] = []
        self.handed: list[str] = []

    def plan(self, event_ids: list[str]) -> None:
        self.messages += 1

    def deliver(self, dedup_key: str, lane: Lane) -> None:
        self.messages += 1
        self.handed.append(dedup_key)

    def deliver_chunk(self, dedup_keys: list[str], lane: Lane) -> None:
        self.messages += 1
        self.handed.extend(dedup_keys)

    def plan_chunk(self, event_ids: list[str], number: int, subscribers: list[str]) -> None:
        self.messages += 1
        self.chunks.append((event_ids, number, subscribers))


def measure(redis_url: str, prefix: str, subscribers: int = 30_000) -> list[Row]:
    feeds, slack = StampedFeedServer().start(), TimedSlack(0.0).start()
    feeds.put(FEED, summary_json([]))
    try:
        with tempfile.TemporaryDirectory(prefix="notifier-bench-plan-") as tmp:
            config = Path(tmp) / "subscriptions.yaml"
            slack_teams_config(config, "plan", feeds.url(FEED), subscribers, 5)
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None, redis_url=redis_url, config=config, key_prefix=prefix,
                slack_token="xoxb-bench-plan", slack_api_url=slack.url,
                fetch_allow_networks=LOCAL_NETWORKS,  # the feed is on 127.0.0.1
            )  # fmt: skip
            rt = Runtime.build(settings, redis_url, load_config(config))
            try:
                return _plan(rt, feeds, subscribers)
            finally:
                rt.client.close()
    finally:
        feeds.stop()
        slack.stop()


def _plan(rt: Runtime, feeds: StampedFeedServer, subscribers: int) -> list[Row]:
    ingest.poll(rt, "plan", CollectEvents(rt), utcnow())  # the quiet baseline
    incident = FakeIncident("planinc00001", "Elevated API errors", impact="critical")
    incident.add("investigating", "2024-12-26T19:00:00.000Z", "We are investigating.")
    feeds.put(FEED, summary_json([incident]))
    found = CollectEvents(rt)
    ingest.poll(rt, "plan", found, utcnow())
    queues = _Queues()
    dispatcher = HandOff(
        rt, queues, plan_inline=lambda ids, h: plan.process(rt, ids, h, utcnow()),
        transient=INFRASTRUCTURE, retry_later=(PlanLater,),
    )  # fmt: skip
    trips = RoundTrips(rt.client)
    started = time.perf_counter()
    plan.process(rt, found.event_ids, dispatcher, utcnow())
    times = []
    for event_ids, number, names in list(queues.chunks):
        t0 = time.perf_counter()
        plan.plan_chunk(rt, event_ids, number, names, dispatcher, utcnow())
        times.append(time.perf_counter() - t0)
    total = time.perf_counter() - started
    planned = len(queues.handed)
    plan_trips = trips.count + queues.messages
    done = all(rt.events.is_processed(e) for e in found.event_ids)
    quarantined = sum(rt.quarantine.counts(utcnow()).values())
    # Delivering: the first attempt of a chunk, every Redis request counted. The first
    # chunk finds this runtime's pool with one connection (planning ran on one thread),
    # and each sending thread opens one of its own. A running worker's pool holds one for
    # each of its threads: the steady state is a second chunk, to other subscribers, once
    # the pool has one for each sending thread (the first chunk's may not have overlapped).
    size = rt.settings.delivery_in_flight
    cold_trips = _deliver_trips(rt, trips, queues.handed[:size], dispatcher)
    warm_pool(rt.client, size)
    chunk = queues.handed[size : 2 * size]
    commands_before = trips.commands
    deliver_trips = _deliver_trips(rt, trips, chunk, dispatcher)
    deliver_commands = (trips.commands - commands_before) / len(chunk)
    cpu_ms = _delivery_cpu_ms(rt, queues.handed[2 * size : 2 * size + CPU_SAMPLE], dispatcher)
    exact = planned == subscribers and len(set(queues.handed)) == subscribers
    return [
        row(NAME, f"{subscribers:,}-route fan-out completes", float(exact and done), "yes=1",
            target="every route claimed once, the event processed", ok=exact and done,
            note=f"{planned:,} alerts handed on, {len(set(queues.handed)):,} distinct; "
                 f"{len(queues.chunks)} chunk tasks"),
        row(NAME, "quarantined", quarantined, "items", target="== 0", ok=quarantined == 0),
        row(NAME, "planning, all chunks one after another", total, "s",
            note=f"{total / subscribers * 1e3:.3f} ms a route on one CPU; the workers run "
                 "the chunks side by side"),
        row(NAME, "planning one chunk, p50 / max", percentile(times, 50) * 1e3, "ms",
            note=f"max {max(times) * 1e3:.0f} ms; chunks of {len(queues.chunks[0][2])} "
                 "subscribers"),
        row(NAME, "Redis round trips to plan and publish, per alert", plan_trips / planned,
            "round trips", target=f"<= {TARGET_TRIPS:.0f}",
            ok=plan_trips / planned <= TARGET_TRIPS,
            note=f"{trips.count:,} Redis requests + {queues.messages:,} broker messages "
                 f"for {planned:,} alerts"),
        row(NAME, "Redis round trips to deliver, per alert", deliver_trips, "round trips",
            target=f"<= {TARGET_DELIVER_TRIPS:.0f}", ok=deliver_trips <= TARGET_DELIVER_TRIPS,
            note=f"the first attempt of a chunk of {len(chunk)} to Slack, its Redis pool "
                 f"warm (a running worker's); {cold_trips:.2f} for the process's first "
                 "chunk, each sending thread opening its connection"),
        row(NAME, "Redis commands to deliver, per alert", deliver_commands, "commands",
            note="in those round trips (each command is packed and parsed by the client "
                 "and run by Redis)"),
        row(NAME, "CPU to deliver one alert, on its thread", cpu_ms, "ms",
            note=f"{CPU_SAMPLE} alerts one after another on one thread, Slack answering at "
                 f"once; the Redis client's parser: {_parser()}"),
    ]  # fmt: skip


CPU_SAMPLE = 300  # alerts delivered one after another for the CPU of one


def _delivery_cpu_ms(rt: Runtime, keys: list[str], handoff: HandOff) -> float:
    """The CPU time of delivering each of `keys` on this thread (the fake Slack's own
    work is on its threads, not counted), in ms per alert."""
    started = time.thread_time()
    for key in keys:
        delivery.attempt_one(rt, key, handoff, utcnow())
    return (time.thread_time() - started) * 1e3 / len(keys)


def _parser() -> str:
    from redis.utils import HIREDIS_AVAILABLE

    return "hiredis" if HIREDIS_AVAILABLE else "pure Python (hiredis not installed)"


def _deliver_trips(rt: Runtime, trips: RoundTrips, chunk: list[str], handoff: HandOff) -> float:
    """The Redis round trips per alert of the first attempt of `chunk`."""
    before = trips.count
    delivery.deliver_keys(rt, chunk, handoff, utcnow())
    return (trips.count - before) / len(chunk)


def run() -> list[Row]:
    return run_isolated(measure)


if __name__ == "__main__":
    for r in run():
        print(r)

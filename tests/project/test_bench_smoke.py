"""Each benchmark's core runs on a tiny size and returns sane rows (not a timing test)."""

from __future__ import annotations

import pytest

from bench import (
    bench_fanout,
    bench_latency,
    bench_memory,
    bench_pages,
    bench_plan,
    bench_polling,
)
from bench.support import percentile


def by_metric(rows: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(r["metric"]): r for r in rows}


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([3.0, 1.0, 2.0], 50, 2.0),  # the middle value, whatever the input order
        ([1.0, 2.0, 3.0, 4.0], 99, 4.0),  # p99 of few samples is the largest
        ([5.0], 1, 5.0),  # one sample is every percentile
    ],
)
def test_percentile_is_nearest_rank(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == expected


def test_polling_measures_304s_and_changes(
    redis_url: str, key_prefix: str, redis_client: object
) -> None:
    rows = by_metric(bench_polling.measure(redis_url, key_prefix, feeds=40, rounds=1, sample=4,
                                           threads=2, prime=4))  # fmt: skip
    steady = rows["steady state, 5% changed per round"]
    assert "changed=2" in str(steady["note"]) and "not_modified=38" in str(steady["note"])
    assert float(str(steady["value"])) > 0 and float(str(steady["baseline"])) > 0


def test_memory_reports_rss_and_redis_bytes(
    redis_url: str, key_prefix: str, redis_client: object
) -> None:
    rows = by_metric(bench_memory.measure(redis_url, key_prefix, providers=6))
    assert 10 < float(str(rows["worker RSS: peak (VmHWM)"]["value"])) < 1000
    assert float(str(rows["Redis: keys created"]["value"])) >= 6
    assert "'changed': 6" in str(rows["worker RSS: after polling all"]["note"])


@pytest.mark.e2e
def test_latency_times_each_change_to_slack(
    redis_url: str, key_prefix: str, redis_client: object
) -> None:
    rows = by_metric(bench_latency.measure(redis_url, key_prefix, providers=1, changes=2))
    first = float(
        str(rows["pipeline overhead (detecting poll -> first Slack request) p50"]["value"])
    )
    reply = float(str(rows["detecting poll -> thread reply p50"]["value"]))
    e2e = float(str(rows["change served -> Slack p50"]["value"]))
    # The second change is a thread reply: its parent's chat.update is the first request.
    assert 0 < first <= reply <= e2e < 30_000


@pytest.mark.e2e
def test_fanout_posts_once_per_subscriber(
    redis_url: str, key_prefix: str, redis_client: object
) -> None:
    rows = by_metric(bench_fanout.measure(redis_url, key_prefix, subscribers=12, processes=1,
                                          in_flight=4, latency=0.05, workers=2))  # fmt: skip
    assert rows["chat.postMessage calls, 2 worker(s)"]["value"] == 12
    assert rows["distinct channels, 2 worker(s)"]["ok"] == "yes"


@pytest.mark.e2e
def test_pages_measures_the_page_behind_a_queued_fan_out(
    redis_url: str, key_prefix: str, redis_client: object
) -> None:
    rows = by_metric(bench_pages.measure(redis_url, key_prefix, backlog=60))
    page = rows["SMS page: detection -> Twilio, Slack fan-out queued"]
    assert 0 < float(str(page["value"])) < 30_000 and float(str(page["baseline"])) > 0
    assert rows["SMS messages sent"]["ok"] == "yes"


def test_push_cost_projects_requests_bytes_and_cpu_for_an_hour(
    redis_url: str, key_prefix: str, redis_client: object
) -> None:
    from bench import bench_push

    rows = by_metric(bench_push.measure_cost(redis_url, key_prefix, providers=50, rounds=1))
    assert float(str(rows["cost/hour: requests"]["value"])) == pytest.approx(3180)
    assert float(str(rows["cost/hour: bytes on the wire"]["value"])) > 0
    assert float(str(rows["cost/hour: CPU, notifier"]["value"])) > 0


def test_the_history_drain_benchmark_writes_every_row(redis_url: str, key_prefix: str) -> None:
    from bench import bench_history

    rows = bench_history.measure(redis_url, key_prefix, incidents=5)
    assert rows[0]["metric"] == "drain into SQLite" and float(rows[0]["value"]) > 0  # type: ignore[arg-type]


def test_plan_completes_a_fan_out_in_chunks_and_counts_round_trips(
    redis_url: str, key_prefix: str, redis_client: object
) -> None:
    rows = by_metric(bench_plan.measure(redis_url, key_prefix, subscribers=700))
    assert rows["700-route fan-out completes"]["ok"] == "yes"
    assert rows["quarantined"]["value"] == 0
    per_alert = float(str(rows["Redis round trips to plan and publish, per alert"]["value"]))
    assert 0 < per_alert <= 3
    trips = float(str(rows["Redis round trips to deliver, per alert"]["value"]))
    commands = float(str(rows["Redis commands to deliver, per alert"]["value"]))
    assert trips < commands  # each round trip carries at least one command, most many
    assert float(str(rows["CPU to deliver one alert, on its thread"]["value"])) > 0

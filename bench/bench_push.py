"""How fast will I know? Push, poll, adaptive polling and probes, side by side in one run,
and what 2,000 providers cost over an hour.

Part 1, the real stack: a Celery worker with its embedded beat (the one-second tick),
Redis, slack-sdk against a local fake Slack, the web endpoint (uvicorn) taking
Statuspage webhooks, status pages and probe targets served here. Groups of
providers run in parallel, each change timed from the moment it happened (the
webhook POST, the new document served, the endpoint going bad) to the moment the
fake Slack received the message about it:

- push: `poll_interval` 300 s, a webhook per change (the page also shows it, as a real
  page would, so the reconciling poll after each push must add nothing);
- poll at 1 s and poll at 60 s: no webhook, the change is found by polling;
- active: `poll_interval` 300 s, `active_poll_interval` 15 s, an incident already open;
  each new update must reach Slack within 15 + 1 s;
- probe: interval 2 s, 3 failures to alert; the warning must arrive within 3 x 2 + 2 s.

Part 2, cost: 2,000 made-here Statuspage summary.json feeds in a `FeedFarm` (own
process), 1 in 20 changing each round, polled through `notifier.pipeline.ingest.stage.poll`
(conditional GETs) and the tick (`notifier.pipeline.ingest.tick`) on a real Redis.
Measured per poll and per tick, then projected to an hour at a 60 s `poll_interval`
with 2% of the providers polled at 15 s (an open incident): requests, bytes on the
wire (request and response lines, headers and bodies as httpx saw them) and CPU
seconds (this process, and Redis).
"""

from __future__ import annotations

import random
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import redis

from bench.support import (
    LOCAL_NETWORKS,
    FeedFarm,
    Row,
    StampedFeedServer,
    TimedSlack,
    made_here_series,
    percentile,
    row,
    run_isolated,
    wait_until,
    worker_env,
)
from notifier.config.load import load_config
from notifier.config.settings import Settings
from notifier.pipeline.handoff import HandOff, Lane
from notifier.pipeline.ingest import stage as ingest
from notifier.pipeline.ingest import tick as ticking
from notifier.pipeline.runtime.wiring import Runtime
from notifier.web.app import build_app
from notifier.web.serving.serve import WebThread, bind
from tests.support.push_kit import ProbeTarget, incident_push
from tests.support.statuspage_docs import FakeIncident, summary_json
from tests.support.workers import WorkerProcess

NAME = "push"
TOKEN = "bench-hook-token-0123456789"
ACTIVE_S, PROBE_S, PROBE_N = 15, 2, 3
GROUPS = {"push": 3, "poll1": 3, "poll60": 6, "active": 3, "probe": 3}
CHANGES = {"push": 10, "poll1": 8, "poll60": 1, "active": 3}


def _config(path: Path, feeds: StampedFeedServer, targets: Sequence[ProbeTarget]) -> None:
    lines = ["providers:"]

    def provider(pid: str, interval: int, *extra: str) -> None:
        lines.extend([f"  - id: {pid}", f"    name: benchmark-{pid}",
                      f"    feed: {{url: '{feeds.url(f'/{pid}.json')}', format: statuspage-json}}",
                      f"    poll_interval: {interval}", *(f"    {e}" for e in extra)])  # fmt: skip

    for k in range(GROUPS["push"]):
        provider(f"pu{k}", 300, f"webhook_token: {TOKEN}")
    for k in range(GROUPS["poll1"]):
        provider(f"pa{k}", 1)
    for k in range(GROUPS["poll60"]):
        provider(f"pb{k}", 60)
    for k in range(GROUPS["active"]):
        provider(f"ac{k}", 300, f"active_poll_interval: {ACTIVE_S}")
    for k, target in enumerate(targets):
        provider(f"pr{k}", 300, f"probes: [{{url: '{target.url()}', interval: {PROBE_S}, "
                                f"timeout: 1, failures_to_alert: {PROBE_N}}}]")  # fmt: skip
    # One Slack channel per provider: a channel takes about one message a second (Slack's
    # limit, which notifier paces to), and the ~70 messages of this run through one channel
    # measured that queue, seconds long, instead of the path from the change to Slack.
    ids = [line.split("id: ", 1)[1] for line in lines if line.startswith("  - id: ")]
    lines += ["subscribers:"]
    for pid in ids:
        lines += [f"  - name: sre-{pid}", f'    slack: {{channel: "#bench-{pid}"}}',
                  f"    filters: {{providers: [{pid}]}}"]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")


def _update(incident: FakeIncident, n: int, marker: str) -> None:
    at = (datetime(2024, 12, 26, 19, 0, tzinfo=UTC) + timedelta(minutes=n + 1)).isoformat()
    incident.add("identified" if n else "investigating", at.replace("+00:00", ".000Z"),
                 f"Update benchmark-{marker} of the outage.")  # fmt: skip


class Timings:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seconds: dict[str, list[float]] = {}

    def add(self, group: str, took: float) -> None:
        with self.lock:
            self.seconds.setdefault(group, []).append(took)


def _push_driver(k: int, web: str, feeds: StampedFeedServer, slack: TimedSlack,
                 out: Timings) -> None:  # fmt: skip
    pid, incident = f"pu{k}", FakeIncident(f"pu{k}inc", f"Push outage {k}")
    for n in range(CHANGES["push"]):
        marker = f"{pid}-n{n}"
        _update(incident, n, marker)
        feeds.put(f"/{pid}.json", summary_json([incident]))  # the page shows it as well
        sent = time.monotonic()
        reply = httpx.post(f"{web}/hooks/statuspage/{pid}/{TOKEN}", content=incident_push(incident))
        assert reply.status_code == 202, reply.status_code
        if not slack.wait(lambda m=marker: m in slack.arrived, 30):
            raise TimeoutError(f"push {marker} never reached Slack")
        out.add("push", slack.arrived[marker] - sent)
        time.sleep(random.uniform(0.2, 1.0))  # pushes do not arrive on the tick's beat


def _poll_driver(group: str, pid: str, changes: int, feeds: StampedFeedServer,
                 slack: TimedSlack, out: Timings, timeout: float) -> None:  # fmt: skip
    incident = FakeIncident(f"{pid}inc", f"Polled outage {pid}")
    for n in range(changes):
        marker = f"{pid}-n{n}"
        _update(incident, n, marker)
        # A change happens at a random moment of the poll interval, not right after a poll.
        time.sleep(random.uniform(0, 1.0 if group == "poll1" else 60.0))
        feeds.put(f"/{pid}.json", summary_json([incident]))
        put = time.monotonic()
        if not slack.wait(lambda m=marker: m in slack.arrived, timeout):
            raise TimeoutError(f"change {marker} never reached Slack")
        out.add(group, slack.arrived[marker] - put)


def _open_incident(k: int) -> FakeIncident:
    """Active provider k's incident, open (and served) before the service starts."""
    incident = FakeIncident(f"ac{k}inc", f"Open outage {k}")
    _update(incident, 0, f"ac{k}-open")
    return incident


def _active_driver(k: int, feeds: StampedFeedServer, slack: TimedSlack, out: Timings) -> None:
    pid = f"ac{k}"
    incident = _open_incident(k)
    if not slack.wait(lambda: f"{pid}-open" in slack.arrived, 30):
        raise TimeoutError(f"{pid}'s open incident never reached Slack")
    for n in range(1, CHANGES["active"] + 1):
        marker = f"{pid}-n{n}"
        _update(incident, n, marker)
        time.sleep(random.uniform(0, ACTIVE_S))
        feeds.put(f"/{pid}.json", summary_json([incident]))
        put = time.monotonic()
        if not slack.wait(lambda m=marker: m in slack.arrived, ACTIVE_S + 30):
            raise TimeoutError(f"change {marker} never reached Slack")
        out.add("active", slack.arrived[marker] - put)


def _probe_driver(k: int, target: ProbeTarget, slack: TimedSlack, out: Timings) -> None:
    time.sleep(random.uniform(0, PROBE_S))
    target.status = 503
    bad = time.monotonic()
    marker = f"pr{k}"
    if not slack.wait(lambda: marker in slack.arrived, 60):
        raise TimeoutError(f"probe warning of {marker} never reached Slack")
    out.add("probe", slack.arrived[marker] - bad)


def measure_paths(redis_url: str, prefix: str) -> Timings:
    feeds, slack = StampedFeedServer().start(), TimedSlack().start()
    targets = [ProbeTarget().start() for _ in range(GROUPS["probe"])]
    out = Timings()
    with tempfile.TemporaryDirectory(prefix="notifier-bench-push-") as tmp:
        config = Path(tmp) / "subscriptions.yaml"
        _config(config, feeds, targets)
        ids = [f"{g}{k}" for g, n in (("pu", 3), ("pa", 3), ("pb", 6), ("ac", 3), ("pr", 3))
               for k in range(n)]  # fmt: skip
        for pid in ids:
            feeds.put(f"/{pid}.json", summary_json([]))
        for k in range(GROUPS["active"]):
            feeds.put(f"/ac{k}.json", summary_json([_open_incident(k)]))
        env = worker_env(redis_url, prefix, config, Path(tmp) / "data", slack.url)
        settings = Settings(_env_file=None, key_prefix=prefix, config=config,  # type: ignore[call-arg]
                            fetch_allow_networks=LOCAL_NETWORKS)  # fmt: skip
        client = redis.Redis.from_url(redis_url)
        web = WebThread(build_app(settings, client, None, load_config(config)),
                        bind("127.0.0.1", 0)).start()  # fmt: skip
        try:
            with WorkerProcess(["run", "--concurrency", "2"], env, Path(tmp) / "w.log") as worker:
                try:
                    wait_until(lambda: all(feeds.hits.get(f"/{p}.json", 0) >= 1 for p in ids), 60,
                               "the first polls")  # fmt: skip
                    _drive(web.url, feeds, slack, targets, out)
                except Exception as exc:
                    raise RuntimeError(f"{exc}\n--- worker log ---\n{worker.tail()}") from exc
        finally:
            web.stop()
            client.close()
            for t in targets:
                t.stop()
            slack.stop()
            feeds.stop()
    return out


def _drive(web: str, feeds: StampedFeedServer, slack: TimedSlack,
           targets: Sequence[ProbeTarget], out: Timings) -> None:  # fmt: skip
    jobs: list[Callable[[], None]] = []
    jobs += [lambda k=k: _push_driver(k, web, feeds, slack, out) for k in range(GROUPS["push"])]
    jobs += [lambda k=k: _poll_driver("poll1", f"pa{k}", CHANGES["poll1"], feeds, slack, out, 30)
             for k in range(GROUPS["poll1"])]  # fmt: skip
    jobs += [lambda k=k: _poll_driver("poll60", f"pb{k}", 1, feeds, slack, out, 100)
             for k in range(GROUPS["poll60"])]  # fmt: skip
    jobs += [lambda k=k: _active_driver(k, feeds, slack, out) for k in range(GROUPS["active"])]
    jobs += [lambda k=k, t=t: _probe_driver(k, t, slack, out) for k, t in enumerate(targets)]
    errors: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        try:
            job()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


# ---- part 2: the cost of 2,000 providers ----------------------------------------------


class Wire:
    """Requests and bytes on the wire as httpx saw them (lines, headers, bodies)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = self.bytes = 0

    def on_response(self, response: httpx.Response) -> None:
        req = response.request
        sent = len(req.method) + len(req.url.raw_path) + 11 + _headers(req.headers.raw)
        got = 17 + _headers(response.headers.raw) + int(response.headers.get("content-length", 0))
        with self.lock:
            self.requests += 1
            self.bytes += sent + got


def _headers(raw: Sequence[tuple[bytes, bytes]]) -> int:
    return sum(len(k) + len(v) + 4 for k, v in raw) + 2


class _Dropped:
    """Queues that drop every message: the cost measured is the poll's and the tick's."""

    def plan(self, event_ids: list[str]) -> None:
        pass

    def plan_chunk(self, event_ids: list[str], number: int, subscribers: list[str]) -> None:
        pass

    def deliver(self, dedup_key: str, lane: Lane) -> None:
        pass

    def deliver_chunk(self, dedup_keys: list[str], lane: Lane) -> None:
        pass


def _redis_cpu(client: redis.Redis) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def measure_cost(redis_url: str, prefix: str, providers: int = 2000,
                 rounds: int = 3) -> list[Row]:  # fmt: skip
    # 1 feed in 50 (2%) has an open incident that gains an update every 20 rounds; the
    # other 98% never change and answer 304, as quiet status pages do.
    series = [made_here_series()[0]] + [[summary_json([])] for _ in range(49)]
    with FeedFarm(series, "application/json", every=20) as farm, \
            tempfile.TemporaryDirectory(prefix="notifier-bench-cost-") as tmp:  # fmt: skip
        config = Path(tmp) / "subscriptions.yaml"
        lines = ["providers:"]
        for i in range(providers):
            lines += [f"  - id: f{i}", f"    name: Feed {i}",
                      f"    feed: {{url: '{farm.url(i)}', format: statuspage-json}}"]  # fmt: skip
        # Nobody is routed anything: this measures watching, not delivering.
        lines += ["subscribers:", "  - name: sre", "    email: {to: [sre@example.com]}",
                  "    filters: {providers: []}"]  # fmt: skip
        config.write_text("\n".join(lines) + "\n")
        settings = Settings(_env_file=None, key_prefix=prefix, config=config,  # type: ignore[call-arg]
                            fetch_allow_networks=LOCAL_NETWORKS)  # fmt: skip
        rt = Runtime.build(settings, redis_url, load_config(config))
        wire = Wire()
        rt.fetcher._client.event_hooks["response"].append(wire.on_response)
        ids = list(rt.providers)
        now = datetime.now(UTC)
        dropped = HandOff(rt, _Dropped())
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda p: ingest.poll(rt, p, dropped, now), ids))  # priming
            wire.requests = wire.bytes = 0
            cpu, rcpu = time.process_time(), _redis_cpu(rt.client)
            for r in range(1, rounds + 1):
                farm.set_round(r)
                at = now + timedelta(seconds=60 * r)
                list(pool.map(lambda p, at=at: ingest.poll(rt, p, dropped, at), ids))
            poll_cpu = (time.process_time() - cpu) / (providers * rounds)
            poll_rcpu = (_redis_cpu(rt.client) - rcpu) / (providers * rounds)
            per_request_bytes = wire.bytes / max(1, wire.requests)
        ticks = 30
        polls: list[str] = []
        cpu, rcpu = time.process_time(), _redis_cpu(rt.client)
        for s in range(ticks):  # the tick for 2,000 providers, polls only recorded
            ticking.tick(rt, dropped, lambda p, _e: polls.append(p),
                         lambda p, n, _e: None, now + timedelta(seconds=600 + s))  # fmt: skip
        tick_cpu = (time.process_time() - cpu) / ticks
        tick_rcpu = (_redis_cpu(rt.client) - rcpu) / ticks
        rt.fetcher.close()
    per_hour = providers * (0.98 * 60 + 0.02 * 3600 / ACTIVE_S)
    setup = (f"{providers} providers, poll_interval 60 s; the 2% with an open incident at "
             "15 s; quiet feeds answer 304")  # fmt: skip
    return [
        row(NAME, "cost/hour: requests", per_hour, "requests", note=setup),
        row(NAME, "cost/hour: bytes on the wire", per_hour * per_request_bytes / 1e6, "MB",
            note=f"{per_request_bytes:.0f} B per request on average, measured"),
        row(NAME, "cost/hour: CPU, notifier", per_hour * poll_cpu + 3600 * tick_cpu, "s",
            note=f"{poll_cpu * 1e3:.2f} ms per poll, {tick_cpu * 1e3:.2f} ms per tick "
                 f"(one tick a second; {len(polls)} polls started in {ticks} ticks)"),
        row(NAME, "cost/hour: CPU, Redis", per_hour * poll_rcpu + 3600 * tick_rcpu, "s",
            note=f"{poll_rcpu * 1e3:.3f} ms per poll, {tick_rcpu * 1e3:.3f} ms per tick"),
    ]  # fmt: skip


def _rows(t: Timings) -> list[Row]:
    out: list[Row] = []
    labels = {"push": "push -> Slack (poll_interval 300 s)", "poll1": "poll 1 s -> Slack",
              "poll60": "poll 60 s -> Slack"}  # fmt: skip
    push = t.seconds.get("push", [])
    for group, label in labels.items():
        values = t.seconds.get(group, [])
        for q in (50, 99):
            target = "<= 1.5 s" if group == "push" and q == 99 else ""
            ok = percentile(values, q) <= 1.5 if target else None
            out.append(row(NAME, f"{label} p{q}", percentile(values, q), "s",
                           baseline=percentile(push, q) if group != "push" else None,
                           target=target, ok=ok, note=f"{len(values)} changes"))  # fmt: skip
    active = t.seconds.get("active", [])
    out.append(row(NAME, "open incident: change -> Slack max", max(active), "s",
                   target=f"< {ACTIVE_S + 1} s", ok=max(active) < ACTIVE_S + 1,
                   note=f"{len(active)} changes, active_poll_interval {ACTIVE_S} s, "
                        f"p50 {percentile(active, 50):.1f} s"))  # fmt: skip
    probe = t.seconds.get("probe", [])
    bound = PROBE_N * PROBE_S + 2
    out.append(row(NAME, "probe: endpoint bad -> Slack max", max(probe), "s",
                   target=f"<= {bound} s", ok=max(probe) <= bound,
                   note=f"{len(probe)} endpoints, interval {PROBE_S} s, "
                        f"failures_to_alert {PROBE_N}"))  # fmt: skip
    return out


def measure(redis_url: str, prefix: str) -> list[Row]:
    timings = measure_paths(redis_url, prefix)
    return _rows(timings) + measure_cost(redis_url, f"{prefix}:cost")


def run() -> list[Row]:
    return run_isolated(measure)


if __name__ == "__main__":
    for r in run():
        print(r)

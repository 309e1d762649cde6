"""Memory: a worker process holding `providers` providers' state, and their Redis bytes.
from notifier.pipeline.ingest import stage as ingest
from notifier.pipeline.runtime.wiring import Runtime
from notifier.pipeline.runtime.wiring import utcnow

A child process does what a worker's pool process does: imports `workers.tasks`
(Celery app included), builds the Runtime from a generated subscription file of
`providers` providers served by a `FeedFarm`, and polls each provider once through
`notifier.pipeline.ingest.stage.poll` (a hand-off that drops its messages), so every
provider's state is in Redis and has passed through this process. It reports VmRSS
after start, after the imports, after the Runtime, after the polls (and after gc),
and the peak (VmHWM).
This process then sums `MEMORY USAGE` over the keys the polls created.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import redis

from bench import footprint
from bench.bench_polling import documents
from bench.support import (
    ROOT,
    FeedFarm,
    Row,
    redis_bytes,
    row,
    run_isolated,
    worker_env,
)
from notifier.config.settings import Settings

NAME = "memory"
TARGET_MB = 200.0


def _rss_kb(field: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child(count: int) -> dict[str, object]:
    """Runs in the child: import, build, poll every provider once; RSS in kB at each step."""
    import gc

    out: dict[str, object] = {"start": _rss_kb()}
    from workers import tasks  # noqa: F401  (imported as a worker's pool process does)
    from workers.process_state import loaded

    out["imported"] = _rss_kb()
    rt = loaded().runtime()
    out["runtime"] = _rss_kb()

    from notifier.pipeline.handoff import HandOff, Lane
    from notifier.pipeline.ingest import stage as ingest
    from notifier.pipeline.runtime.wiring import utcnow

    class Dropped:
        """Queues that drop every message: events are stored by the poll; nothing is
        planned or delivered here."""

        def plan(self, event_ids: list[str]) -> None: ...

        def plan_chunk(self, event_ids: list[str], number: int, subscribers: list[str]) -> None: ...

        def deliver(self, dedup_key: str, lane: Lane) -> None: ...

        def deliver_chunk(self, dedup_keys: list[str], lane: Lane) -> None: ...

    handoff = HandOff(rt, Dropped())
    outcomes: dict[str, int] = {}
    for pid in rt.providers:
        o = ingest.poll(rt, pid, handoff, utcnow()).outcome.value
        outcomes[o] = outcomes.get(o, 0) + 1
    out["polled"] = _rss_kb()
    gc.collect()
    out["after_gc"] = _rss_kb()
    out["peak"] = _rss_kb("VmHWM")
    out["outcomes"] = outcomes
    return out


def _config(path: Path, farm: FeedFarm, count: int, fmt: str) -> None:
    lines = ["providers:"]
    for i in range(count):
        lines += [f"  - id: mem{i:05d}", f"    name: Memory {i}",
                  f'    feed: {{url: "{farm.url(i)}", format: {fmt}}}']  # fmt: skip
    lines += ["subscribers:", "  - name: sre", '    slack: {channel: "#bench-memory"}']
    path.write_text("\n".join(lines) + "\n")


def measure(redis_url: str, prefix: str, providers: int = 2000) -> list[Row]:
    series, ctype, fmt = documents()
    with tempfile.TemporaryDirectory(prefix="notifier-bench-memory-") as tmp, \
            FeedFarm(series, ctype) as farm:  # fmt: skip
        config = Path(tmp) / "subscriptions.yaml"
        _config(config, farm, providers, fmt)
        env = worker_env(redis_url, prefix, config, Path(tmp) / "data")
        done = subprocess.run(
            [sys.executable, "-m", "bench.bench_memory", "--child", str(providers)],
            cwd=ROOT, env=env, capture_output=True, timeout=300, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"memory child failed: {done.stderr.decode()[-3000:]}")
    kb = json.loads(done.stdout.decode().strip().splitlines()[-1])
    client = redis.Redis.from_url(redis_url)
    try:
        keys, used = redis_bytes(client, prefix)
        per = footprint.per_alert(client)
        worst = footprint.per_alert(client, per_incident=1)
    finally:
        client.close()
    return _rows(kb, keys, used, providers, fmt) + _footprint_rows(used / providers, per, worst)


def _footprint_rows(
    provider_b: float, per: footprint.PerAlert, worst: footprint.PerAlert
) -> list[Row]:
    """Bytes per alert as delivered and once shrunk, by key family, and the 30-day
    footprint at 2,000 providers and 1,000 subscribers following 50 each, with the
    default payload retention (`NOTIFIER_ALERT_PAYLOAD_DAYS`)."""
    days = Settings.model_fields["alert_payload_days"].default
    alerts, total = footprint.thirty_days(provider_b, per.kept(days), 2000, 1000, 50)
    _, total_worst = footprint.thirty_days(provider_b, worst.kept(days), 2000, 1000, 50)
    setup = (f"2,000 providers, 1,000 subscribers x 50 follows, "
             f"{footprint.EVENTS_PER_PROVIDER} events/provider/30 d "
             f"({footprint.EVENTS_PER_INCIDENT} per incident): {alerts:,} alerts, the last "
             f"{days:g} days' in full")  # fmt: skip

    def families(d: dict[str, float]) -> str:
        return ", ".join(f"{k} {v:,.0f}" for k, v in sorted(d.items(), key=lambda kv: -kv[1]))

    return [
        row(NAME, "Redis: bytes per delivered alert", per.full_total, "B",
            note=families(per.full)),
        row(NAME, f"Redis: bytes per alert after {days:g} days (shrunk)", per.shrunk_total,
            "B", note=families(per.shrunk)),
        row(NAME, "Redis: history outbox per alert until drained", per.outbox, "B"),
        row(NAME, "Redis: bytes per provider", provider_b, "B"),
        row(NAME, "Redis: 30-day footprint", total / 2**30, "GB", target="<= 1 GB",
            ok=total <= 2**30, note=setup),
        row(NAME, "Redis: 30-day footprint, one event per incident", total_worst / 2**30, "GB",
            note=f"every alert its own thread (the thread's keys not shared): "
                 f"{worst.full_total:,.0f} B per alert delivered, "
                 f"{worst.shrunk_total:,.0f} B shrunk"),
    ]  # fmt: skip


def _rows(kb: dict[str, object], keys: int, used: int, providers: int, fmt: str) -> list[Row]:
    def mb(name: str) -> float:
        return float(str(kb[name])) / 1024

    setup = f"{providers} {fmt} providers, each polled once: {kb['outcomes']}"
    return [
        row(NAME, "worker RSS: interpreter + bench module", mb("start"), "MB"),
        row(NAME, "worker RSS: + imports (celery, notifier)", mb("imported"), "MB"),
        row(NAME, "worker RSS: + Runtime (config)", mb("runtime"), "MB"),
        row(NAME, "worker RSS: after polling all", mb("after_gc"), "MB",
            target=f"<= {TARGET_MB:.0f} MB", ok=mb("peak") <= TARGET_MB, note=setup),
        row(NAME, "worker RSS: peak (VmHWM)", mb("peak"), "MB", target=f"<= {TARGET_MB:.0f} MB",
            ok=mb("peak") <= TARGET_MB),
        row(NAME, "Redis: keys created", keys, "keys"),
        row(NAME, "Redis: MEMORY USAGE of those keys", used / 2**20, "MB",
            note=f"{used / max(1, providers) / 1024:.1f} kB per provider"),
    ]  # fmt: skip


def run() -> list[Row]:
    return run_isolated(measure)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        os.environ.setdefault("NOTIFIER_LOG_LEVEL", "WARNING")
        print(json.dumps(child(int(sys.argv[2]))))
    else:
        for r in run():
            print(r)

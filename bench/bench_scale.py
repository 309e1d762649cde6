"""Ten thousand subscribers: one critical incident through the real stack.

The subscription file has 10,000 subscribers, each with a Slack channel (the fake
Slack answers in 150 ms); 2,000 of them also have email (a local SMTP server, aiosmtpd,
answering each message in 50 ms); 10 are on call with SMS (the fake Twilio answers in
300 ms). The processes are `notifier run`'s: `workers` workers consuming `poll,deliver`
(2 prefork processes each, two machines' worth when `workers=2`) and the page worker
(`page`, 2 processes), on one Redis. Beat's part, sending `notifier.poll` for the
provider, is played by this process, once the feed serves the incident.

Reported, from the detecting poll (the fake feed first serving the incident):
- the SMS page's delay (target <= 1 s);
- the time until every route is planned (the event marked processed; target <= 5 s
  with 2 workers);
- the time until the last delivery (target <= 90 s with 2 workers);
- lost and duplicated deliveries (exactly one post per Slack channel, one mail per
  address, one SMS per on-call number: target 0 and 0);
- Redis memory of the incident (every key the run made, `MEMORY USAGE`, after minus
  before) and the peak RSS (VmHWM) of every worker process.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import redis
from celery import Celery

from bench.support import (
    LOCAL_NETWORKS,
    CollectEvents,
    Row,
    StampedFeedServer,
    TimedSlack,
    TimedTwilio,
    row,
    run_isolated,
    wait_until,
    worker_env,
)
from notifier.config.load import load_config
from notifier.config.settings import Settings
from notifier.pipeline.ingest import stage as ingest
from notifier.pipeline.runtime.wiring import Runtime, utcnow
from notifier.store.conn.url import broker_url
from tests.fakes.smtp import FakeSmtp, Recorder
from tests.support.statuspage_docs import FakeIncident, summary_json
from tests.support.workers import WorkerProcess

NAME = "scale"
FEED = "/scale/api/v2/summary.json"
SUBSCRIBERS, EMAIL, ON_CALL = 10_000, 2_000, 10
# The fan-out that used to be quarantined half planned: its routes through the same stack.
LARGE = (30_000, 0, 10)
SLACK_S, SMTP_S, TWILIO_S = 0.150, 0.050, 0.300
TARGET_PAGE_S, TARGET_PLANNED_S, TARGET_LAST_S = 1.0, 5.0, 90.0


class _SlowRecorder(Recorder):
    """Accepts each message `SMTP_S` after its data arrived (without blocking others)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: list[float] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(SMTP_S)
        reply: str = await super().handle_DATA(server, session, envelope)
        self.arrived.append(time.monotonic())
        return reply


def _config(path: Path, url: str, subscribers: int, email: int, on_call: int) -> None:
    lines = ["providers:", "  - id: scale", "    name: Scale Cloud",
             f'    feed: {{url: "{url}", format: statuspage-json}}', "subscribers:"]  # fmt: skip
    for n in range(subscribers):
        lines += [f"  - name: team{n:05d}", f'    slack: {{channel: "#scale-{n:05d}"}}']
        if n < email:
            lines.append(f'    email: {{to: ["team{n:05d}@example.com"]}}')
        if n < on_call:
            lines.append(f'    sms: {{to: ["+1555020{n:04d}"]}}')
    path.write_text("\n".join(lines) + "\n")


def _incident() -> bytes:
    incident = FakeIncident("scaleinc0001", "API unavailable in every region", impact="critical",
                            components=["API"])  # fmt: skip
    incident.add("investigating", "2024-12-26T19:00:00.000Z", "We are investigating errors.")
    return summary_json([incident])


def _redis_bytes(client: redis.Redis, prefix: str) -> tuple[int, int]:
    """(keys, bytes) under `prefix`, `MEMORY USAGE` in pipelined batches."""
    keys = list(client.scan_iter(match=f"{prefix}:*", count=5000))
    total = 0
    for i in range(0, len(keys), 2000):
        pipe = client.pipeline(transaction=False)
        for key in keys[i : i + 2000]:
            pipe.memory_usage(key, samples=0)
        total += sum(int(n or 0) for n in pipe.execute())
    return len(keys), total


def _peak_rss(group: int) -> list[tuple[int, int]]:
    """(pid, peak RSS in bytes) of every process in the process group `group`."""
    found = []
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            if os.getpgid(pid) != group:
                continue
            status = Path(f"/proc/{pid}/status").read_text()
        except (OSError, ProcessLookupError):
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                found.append((pid, int(line.split()[1]) * 1024))
    return found


def _warm_up(app: Celery, workers: list[WorkerProcess], per_queue: int) -> None:
    """Every pool process builds its Runtime: a delivery of a missing alert logs a
    warning and does nothing else."""
    sent = 0
    for queue in ("deliver", "page"):
        for n in range(per_queue):
            app.send_task("notifier.deliver", args=(f"bench-warmup-{queue}-{n}",), queue=queue)
            sent += 1

    def warmed() -> bool:
        return sum(w.tail(1_000_000).count("alert record missing") for w in workers) >= sent

    wait_until(warmed, 90, "the workers to start")


def measure(
    redis_url: str, prefix: str, workers: int = 2,
    size: tuple[int, int, int] = (SUBSCRIBERS, EMAIL, ON_CALL),
) -> list[Row]:  # fmt: skip
    feeds = StampedFeedServer().start()
    slack, twilio = TimedSlack(SLACK_S).start(), TimedTwilio(TWILIO_S).start()
    smtp, mails = FakeSmtp(), _SlowRecorder()
    smtp.recorder = smtp.controller.handler = mails
    smtp.start()
    feeds.put(FEED, summary_json([]))
    with tempfile.TemporaryDirectory(prefix="notifier-bench-scale-") as tmp:
        config = Path(tmp) / "subscriptions.yaml"
        _config(config, feeds.url(FEED), *size)
        env = worker_env(redis_url, prefix, config, Path(tmp) / "data", slack.url)
        env |= {
            "NOTIFIER_TWILIO_ACCOUNT_SID": twilio.account_sid,
            "NOTIFIER_TWILIO_AUTH_TOKEN": twilio.auth_token,
            "NOTIFIER_TWILIO_FROM": "+15550009999",
            "NOTIFIER_TWILIO_API_URL": twilio.url,
            "NOTIFIER_SMTP_HOST": "127.0.0.1",
            "NOTIFIER_SMTP_PORT": str(smtp.port),
            "NOTIFIER_SMTP_STARTTLS": "false",
        }
        settings = Settings(redis_url=redis_url, config=config, key_prefix=prefix,
                            fetch_allow_networks=LOCAL_NETWORKS)  # fmt: skip
        rt = Runtime.build(settings, redis_url, load_config(config))
        ingest.poll(rt, "scale", CollectEvents(rt), utcnow())  # the quiet baseline
        app = Celery("notifier-bench", broker=broker_url(redis_url))
        app.conf.update(broker_transport_options={"global_keyprefix": settings.broker_prefix},
                        task_serializer="json")  # fmt: skip
        main = ["worker", "--queues", "poll,deliver", "--concurrency", "2"]
        pages = ["worker", "--queues", "page", "--concurrency", "2", "--hostname", "page@%h"]
        try:
            with ExitStack() as stack:
                running = [
                    stack.enter_context(WorkerProcess(
                        [*main, "--hostname", f"scale{w}@%h"], env, Path(tmp) / f"w{w}.log"))
                    for w in range(workers)
                ]  # fmt: skip
                running.append(stack.enter_context(
                    WorkerProcess(pages, env, Path(tmp) / "pages.log")))  # fmt: skip
                # Beat: its tick and the retry sweep (an SMS past Twilio's 1/s waits its turn).
                beat = stack.enter_context(WorkerProcess(["beat"], env, Path(tmp) / "beat.log"))
                _warm_up(app, running, 8)
                _, before = _redis_bytes(rt.client, prefix)
                etag = feeds.put(FEED, _incident())
                app.send_task("notifier.poll", args=("scale",), queue="poll")  # as beat would
                try:
                    found = _follow(rt, feeds, etag, (slack, mails, twilio), sum(size))
                except Exception as exc:
                    raise RuntimeError(f"{exc}\n--- worker log ---\n{running[0].tail()}") from exc
                time.sleep(2.0)  # anything arriving now would be a duplicate
                found["quarantined"] = sum(rt.quarantine.counts(utcnow()).values())
                keys, after = _redis_bytes(rt.client, prefix)
                names = [f"scale{i}" for i in range(workers)] + ["page", "beat"]
                rss = [(name, _peak_rss(w.proc.pid)) for name, w in zip(
                    names, [*running, beat], strict=True) if w.proc is not None]  # fmt: skip
        finally:
            rt.client.close()
            for server in (slack, twilio, feeds):
                server.stop()
            smtp.stop()
    return _rows(found, (slack, smtp, twilio), size, (keys, after - before), rss, workers)


def _follow(
    rt: Runtime, feeds: StampedFeedServer, etag: str,
    fakes: tuple[TimedSlack, _SlowRecorder, TimedTwilio], total: int,
) -> dict[str, float]:  # fmt: skip
    """Wait for the page, the plan and the last delivery; their times after detection."""
    slack, smtp, twilio = fakes
    wait_until(lambda: etag in feeds.served_at, 30, "the poll to fetch the incident")
    detected = feeds.served_at[etag]
    wait_until(lambda: len(twilio.arrived) >= 1, 30, "the page")

    def planned_all() -> bool:
        ids = [e.event_id for e in rt.events.events_of("scale", "scaleinc0001")]
        return bool(ids) and all(rt.events.is_processed(e) for e in ids)

    wait_until(planned_all, 120, "every route to be planned", step=0.01)
    planned = time.monotonic()

    def delivered() -> int:
        return len(slack.post_times) + len(smtp.arrived) + len(twilio.arrived)

    try:
        wait_until(lambda: delivered() >= total, 300, f"{total} deliveries", step=0.05)
    except TimeoutError as exc:
        got = (len(slack.post_times), len(smtp.arrived), len(twilio.arrived))
        raise TimeoutError(f"{exc}: (slack, email, sms) = {got}") from None
    last = max(slack.post_times[-1], twilio.arrived[-1], *smtp.arrived[-1:])
    return {"page": twilio.arrived[0] - detected, "last_sms": twilio.arrived[-1] - detected,
            "planned": planned - detected, "last": last - detected}  # fmt: skip


def _rows(
    found: dict[str, float], fakes: tuple[TimedSlack, FakeSmtp, TimedTwilio],
    size: tuple[int, int, int], memory: tuple[int, int],
    rss: list[tuple[str, list[tuple[int, int]]]], workers: int,
) -> list[Row]:  # fmt: skip
    slack, smtp, twilio = fakes
    subscribers, email, on_call = size
    posts = Counter(str(m["body"].get("channel")) for m in slack.messages
                    if m["method"] == "chat.postMessage")  # fmt: skip
    mails = Counter(to for _, tos in smtp.recorder.envelopes for to in tos)
    sms = len(twilio.arrived)
    lost = (subscribers - len(posts)) + (email - len(mails)) + max(0, on_call - sms)
    dup = (sum(posts.values()) - len(posts)) + (sum(mails.values()) - len(mails))
    dup += max(0, sms - on_call)
    said = (f"{subscribers:,} Slack (150 ms), {email:,} email (50 ms), {on_call} SMS (300 ms); "
            f"{workers} worker(s) x 2 processes + the page worker")  # fmt: skip
    rows = [
        row(NAME, "SMS page: detection -> Twilio", found["page"] * 1e3, "ms",
            target=f"<= {TARGET_PAGE_S * 1e3:.0f} ms", ok=found["page"] <= TARGET_PAGE_S,
            note=said),
        row(NAME, "last SMS page: detection -> Twilio", found["last_sms"], "s",
            note=f"{on_call} pages from one sending number: Twilio's 1 a second after a "
                 "burst of 5 (NOTIFIER_TWILIO_RATE)"),
        row(NAME, "every route planned: detection -> event processed", found["planned"], "s",
            target=f"<= {TARGET_PLANNED_S:.0f} s", ok=found["planned"] <= TARGET_PLANNED_S,
            note=f"{subscribers + email + on_call:,} routes"),
        row(NAME, "last delivery: detection -> last vendor request", found["last"], "s",
            target=f"<= {TARGET_LAST_S:.0f} s", ok=found["last"] <= TARGET_LAST_S),
        row(NAME, "lost deliveries", lost, "deliveries", target="== 0", ok=lost == 0),
        row(NAME, "duplicated deliveries", dup, "deliveries", target="== 0", ok=dup == 0),
        row(NAME, "quarantined events and alerts", found["quarantined"], "items", target="== 0",
            ok=found["quarantined"] == 0),
        row(NAME, "Redis memory of the incident", memory[1] / 1e6, "MB",
            note=f"{memory[0]:,} keys under the run's prefix at the end (MEMORY USAGE, "
                 "after minus before)"),
    ]  # fmt: skip
    for name, procs in rss:
        peak = max((b for _, b in procs), default=0)
        rows.append(row(NAME, f"peak RSS, worker {name}", peak / 1e6, "MB",
                        note=f"largest of {len(procs)} processes (VmHWM); "
                             + ", ".join(f"{b / 1e6:.0f}" for _, b in procs)))  # fmt: skip
    return rows


def run() -> list[Row]:
    rows = run_isolated(measure)
    large = run_isolated(lambda url, prefix: measure(url, prefix, size=LARGE))
    return rows + [_at_large(r) for r in large if r["metric"] in _LARGE_METRICS]


# What the 30,000-route run adds: that it completes, whole and once, and how long it took.
_LARGE_METRICS = ("every route planned: detection -> event processed",
                  "last delivery: detection -> last vendor request", "lost deliveries",
                  "duplicated deliveries", "quarantined events and alerts")  # fmt: skip


def _at_large(found: Row) -> Row:
    timed = found["unit"] == "s"  # its time targets are the 10,000-subscriber run's
    return found | {
        "metric": f"{LARGE[0]:,} Slack routes: {found['metric']}",
        "target": "" if timed else found["target"], "ok": "" if timed else found["ok"],
        "note": f"{LARGE[0]:,} Slack (150 ms), {LARGE[2]} SMS; 2 worker(s) x 2 processes "
                "+ the page worker",
    }  # fmt: skip


if __name__ == "__main__":
    for r in run():
        print(r)

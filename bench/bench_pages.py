"""Pages first: the SMS page's delay while a Slack fan-out is queued.

Two providers. `bulk` has `backlog` Slack subscribers (one channel each); `core` has one
on-call subscriber with an SMS route. The fake Slack answers in 150 ms and the fake
Twilio in 300 ms. Real workers as `notifier run` starts them: one for `poll,deliver`
(2 processes) and one of its own for `page`.

First `bulk`'s incident is polled and its `notifier.process` task sent: the worker plans
`backlog` alerts and queues them. Once the fan-out is under way (a tenth of it
delivered, the rest queued), `core`'s feed changes and a `notifier.poll` for it is sent,
as beat would. The page's delay is from the poll that detects the change (the fake feed
first serving it) to the SMS request reaching Twilio. The baseline is the same page
with nothing queued, in the same run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

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
from tests.support.statuspage_docs import FakeIncident, summary_json
from tests.support.workers import WorkerProcess

NAME = "pages"
TARGET_S = 1.0
BULK, CORE = "/bulk/api/v2/summary.json", "/core/api/v2/summary.json"
ONCALL = "+15550100001"


def _config(path: Path, feeds: StampedFeedServer, backlog: int) -> None:
    lines = ["providers:"]
    for pid, feed in (("bulk", BULK), ("core", CORE)):
        lines += [f"  - id: {pid}", f"    name: {pid.title()} Cloud",
                  f'    feed: {{url: "{feeds.url(feed)}", format: statuspage-json}}']  # fmt: skip
    lines += ["subscribers:", "  - name: oncall", f'    sms: {{to: ["{ONCALL}"]}}',
              "    filters: {providers: [core]}"]  # fmt: skip
    for n in range(backlog):
        lines += [f"  - name: team{n:04d}", f'    slack: {{channel: "#bulk-{n:04d}"}}',
                  "    filters: {providers: [bulk]}"]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")


def _incidents(name: str, n: int) -> bytes:
    """Incidents 1..n of `name`, all open: each change is one new incident (no all-clear)."""
    open_ = []
    for k in range(1, n + 1):
        incident = FakeIncident(f"{name}inc{k:04d}", f"{name} outage {k}", components=["API"])
        incident.add("investigating", f"2024-12-26T19:{k:02d}:00.000Z", "We are investigating.")
        open_.append(incident)
    return summary_json(open_)


def _page(app: Celery, feeds: StampedFeedServer, twilio: TimedTwilio, n: int) -> float:
    """Change `core`'s feed, poll it as beat would; seconds from detection to Twilio."""
    sent = len(twilio.arrived)
    etag = feeds.put(CORE, _incidents("core", n))
    app.send_task("notifier.poll", args=("core",), queue="poll")
    wait_until(lambda: len(twilio.arrived) > sent, 30, "the page")
    return twilio.arrived[sent] - feeds.served_at[etag]


def measure(redis_url: str, prefix: str, backlog: int = 2000) -> list[Row]:
    feeds, slack, twilio = (
        StampedFeedServer().start(),
        TimedSlack(0.150).start(),
        TimedTwilio(0.300).start(),
    )
    feeds.put(BULK, summary_json([]))
    feeds.put(CORE, summary_json([]))
    with tempfile.TemporaryDirectory(prefix="notifier-bench-pages-") as tmp:
        config = Path(tmp) / "subscriptions.yaml"
        _config(config, feeds, backlog)
        env = worker_env(redis_url, prefix, config, Path(tmp) / "data", slack.url)
        env |= {
            "NOTIFIER_TWILIO_ACCOUNT_SID": twilio.account_sid,
            "NOTIFIER_TWILIO_AUTH_TOKEN": twilio.auth_token,
            "NOTIFIER_TWILIO_FROM": "+15550009999",
            "NOTIFIER_TWILIO_API_URL": twilio.url,
        }
        settings = Settings(redis_url=redis_url, config=config, key_prefix=prefix,
                            fetch_allow_networks=LOCAL_NETWORKS)  # fmt: skip
        rt = Runtime.build(settings, redis_url, load_config(config))
        for pid in ("bulk", "core"):  # the baselines: nothing open yet
            ingest.poll(rt, pid, CollectEvents(rt), utcnow())
        app = Celery("notifier-bench", broker=broker_url(redis_url))
        app.conf.update(broker_transport_options={"global_keyprefix": settings.broker_prefix},
                        task_serializer="json")  # fmt: skip
        main = ["worker", "--queues", "poll,deliver", "--concurrency", "2"]
        pages = ["worker", "--queues", "page", "--concurrency", "2", "--hostname", "page@%h"]
        try:
            with WorkerProcess(main, env, Path(tmp) / "worker.log") as worker, \
                    WorkerProcess(pages, env, Path(tmp) / "pages.log"):  # fmt: skip
                try:
                    _page(app, feeds, twilio, 1)  # every process has built its Runtime
                    idle = _page(app, feeds, twilio, 2)
                    feeds.put(BULK, _incidents("bulk", 1))
                    collect = CollectEvents(rt)
                    ingest.poll(rt, "bulk", collect, utcnow())
                    app.send_task("notifier.process", args=(collect.event_ids,), queue="poll")
                    wait_until(lambda: len(slack.post_times) >= backlog // 10, 60,
                               "the fan-out to be under way")  # fmt: skip
                    before = len(slack.post_times)
                    busy = _page(app, feeds, twilio, 3)
                    at_page = len(slack.post_times)
                    wait_until(lambda: len(slack.post_times) >= backlog, 120, "the fan-out")
                except Exception as exc:
                    raise RuntimeError(f"{exc}\n--- worker log ---\n{worker.tail()}") from exc
        finally:
            rt.client.close()
            for server in (slack, twilio, feeds):
                server.stop()
    waiting = backlog - at_page
    return [
        row(NAME, "SMS page: detection -> Twilio, Slack fan-out queued", busy * 1e3, "ms",
            baseline=idle * 1e3, target=f"<= {TARGET_S * 1e3:.0f} ms", ok=busy <= TARGET_S,
            note=f"{waiting} of {backlog} Slack deliveries still to go when it left "
                 f"({before} sent before the change); Twilio 300 ms, Slack 150 ms; "
                 "baseline: the same page with nothing queued"),
        row(NAME, "Slack deliveries still queued when the page left", waiting, "deliveries",
            target="> 0", ok=waiting > 0),
        row(NAME, "SMS messages sent", len(twilio.sent), "messages", target="== 3",
            ok=len(twilio.sent) == 3, note="one per page: the warm-up, the baseline, the measure"),
    ]  # fmt: skip


def run() -> list[Row]:
    return run_isolated(measure)


if __name__ == "__main__":
    for r in run():
        print(r)

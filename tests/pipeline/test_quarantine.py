"""Poison work cannot blind a provider: an event whose planning raises, or an alert whose
rendering raises, is tried three times and then quarantined, and everything else goes on.

Real parts: two local Statuspages over HTTP, a real Redis, the real Slack channel against
the fake Slack, and the production hand-off (`HandOff`) over queues that run
each task at once, as a worker would. The bug itself is the one monkeypatch: planning
and Block Kit rendering of a well-formed event have no known failure (that is what makes
a poison event a bug nobody has met yet), and the annotators, the one step a
subscription file can steer into trouble, are already wrapped so they cannot raise. So
one function is replaced at the exact point where such a bug would be, raising for one
incident (or one subscriber) only.
"""

from __future__ import annotations

import io
import json
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from notifier.channels.memo import RenderMemo
from notifier.channels.slack import blocks
from notifier.cli import build_parser
from notifier.config.settings import get_settings
from notifier.pipeline.delivery import quarantine, release
from notifier.pipeline.delivery import stage as delivery
from notifier.pipeline.delivery.retry import INFRASTRUCTURE
from notifier.pipeline.handoff import HandOff, Lane
from notifier.pipeline.ingest import stage as ingest
from notifier.pipeline.plan import event as planner
from notifier.pipeline.plan import stage as plan
from notifier.pipeline.plan.fanout import PlanLater
from notifier.pipeline.runtime.wiring import Runtime
from notifier.store.delivery.status import AlertStatus
from notifier.store.ops.metrics import render as render_metrics
from notifier.store.ops.quarantine import QuarantineStore
from notifier.web.app import create_app
from notifier.web.serving.serve import WebThread, bind
from notifier.web.wiring import WebWiring
from tests.fakes.slack_api import FakeSlack
from tests.support.console import LIMITS
from tests.support.feed_server import FeedServer, feed_server
from tests.support.runtime import build_runtime
from tests.support.statuspage_docs import FakeIncident, summary_json

# Its fake feed servers listen on 127.0.0.1, which the fetch guard refuses unless allowed.
pytestmark = pytest.mark.usefixtures("local_fetches")

# Recent, so the 30-day quarantine window of `notifier status` (the wall clock) holds it.
T0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
POISON, GOOD, OTHER = "k7apoison001", "k7goodinc001", "k7otherinc01"
SECRET = "xoxb-not-for-logs-123456"  # in the bug's message: it must not reach a log or Redis


def _at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class RunNow:
    """The harness's queues, each task run at once in this process, as a worker would run
    it (`workers.tasks`), at the test's clock."""

    def __init__(self) -> None:
        self.rt: Runtime | None = None
        self.now = T0

    def to(self) -> HandOff:
        assert self.rt is not None
        rt = self.rt
        return HandOff(
            rt, self, plan_inline=lambda ids, h: plan.process(rt, ids, h, self.now),
            transient=INFRASTRUCTURE, retry_later=(PlanLater,),
        )  # fmt: skip

    def plan(self, event_ids: list[str]) -> None:
        assert self.rt is not None
        plan.process(self.rt, event_ids, self.to(), self.now)

    def plan_chunk(self, event_ids: list[str], number: int, subscribers: list[str]) -> None:
        assert self.rt is not None
        plan.plan_chunk(self.rt, event_ids, number, subscribers, self.to(), self.now)

    def deliver(self, dedup_key: str, lane: Lane | None = None) -> None:
        assert self.rt is not None
        delivery.deliver(self.rt, dedup_key, self.to(), self.now)

    def deliver_chunk(self, dedup_keys: list[str], lane: Lane | None = None) -> None:
        assert self.rt is not None
        delivery.deliver_chunk(self.rt, dedup_keys, self.to(), self.now)

    def poll(self, provider: str, minutes: float) -> str:
        assert self.rt is not None
        self.now = T0 + timedelta(minutes=minutes)
        return ingest.poll(self.rt, provider, self.to(), self.now).outcome

    def sweep(self, minutes: float) -> int:
        """Beat's every-second retry sweep, at `minutes`."""
        assert self.rt is not None
        self.now = T0 + timedelta(minutes=minutes)
        return release.release_retries(self.rt, self.to(), self.now)


@pytest.fixture
def served(fake_slack: FakeSlack) -> Iterator[tuple[FeedServer, FakeSlack]]:
    with feed_server() as feeds:
        yield feeds, fake_slack


def _runtime(
    tmp_path: Path, redis_url: str, key_prefix: str, feeds: FeedServer, slack: FakeSlack,
    subscribers: str = "  - name: platform\n    slack: {channel: '#vendor-status'}\n",
) -> tuple[RunNow, Path]:  # fmt: skip
    run = RunNow()
    run.rt = build_runtime(
        tmp_path, redis_url, key_prefix,
        "providers:\n"
        f"  - id: acme\n    name: Acme Cloud\n"
        f"    feed: {{url: '{feeds.url('/acme.json')}', format: statuspage-json}}\n"
        f"  - id: beta\n    name: Beta Pay\n"
        f"    feed: {{url: '{feeds.url('/beta.json')}', format: statuspage-json}}\n"
        "subscribers:\n" + subscribers,
        slack_token="xoxb-quarantine-test", slack_api_url=slack.url,
    )  # fmt: skip
    config = run.rt.settings.config_path()
    return run, config


def _raising_for(
    incident_id: str, real: Callable[..., Any], exc: type[Exception] = ValueError
) -> Callable[..., Any]:
    def planned(event: Any, *args: Any, **kwargs: Any) -> Any:
        if event.incident_id == incident_id:
            raise exc(f"cannot plan this one ({SECRET})")
        return real(event, *args, **kwargs)

    return planned


def _posted(slack: FakeSlack, incident_name: str) -> list[dict[str, Any]]:
    return [m for m in slack.messages if incident_name in json.dumps(m["body"])]


def test_a_poison_event_is_quarantined_at_its_third_try_and_its_provider_goes_on(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    served: tuple[FeedServer, FakeSlack], monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    feeds, slack = served
    bad = FakeIncident(POISON, "Poisoned incident").add("investigating", _at(-5), "Hmm.")
    good = FakeIncident(GOOD, "Elevated API errors").add("investigating", _at(-4), "Looking.")
    other = FakeIncident(OTHER, "Card payments failing").add("investigating", _at(-3), "On it.")
    feeds.put("/acme.json", summary_json([bad, good]))  # the diff plans the poison one first
    feeds.put("/beta.json", summary_json([other], page="Beta Pay"))
    run, _ = _runtime(tmp_path, redis_url, key_prefix, feeds, slack)
    monkeypatch.setattr(planner, "route_event", _raising_for(POISON, planner.route_event))
    caplog.set_level(logging.INFO)

    # Tries 1 and 2: the poll's batch fails as it always did and is polled again, in order.
    for minute in (0, 1):
        with pytest.raises(ValueError):
            run.poll("acme", minute)
        assert _posted(slack, "Elevated API errors") == []
        assert run.poll("beta", minute) in ("changed", "not_modified", "unchanged")
    assert len(_posted(slack, "Card payments failing")) == 1  # the other provider: unaffected

    # Try 3: given up on; the rest of the same poll is planned and delivered.
    assert run.poll("acme", 2) == "changed"
    assert len(_posted(slack, "Elevated API errors")) == 1
    assert _posted(slack, "Poisoned incident") == []
    assert run.rt is not None
    # The incident and its first update came as one event (one message): given up on once.
    held = QuarantineStore(redis_client, key_prefix).listed(run.now)
    assert [(q.kind, q.provider, q.incident_id, q.reason) for q in held] == [
        ("event", "acme", POISON, "planning: ValueError")
    ]
    assert [q.tries for q in held] == [3]
    # The code that raised, for whoever fixes it (the bug stands in for plan's code here).
    assert {re.sub(r":\d+ ", " ", q.where) for q in held} == {"test_quarantine.py in planned"}
    assert all(run.rt.events.is_processed(q.id) for q in held)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and {getattr(r, "provider", None) for r in errors} == {"acme"}
    for q, line in zip(sorted(held, key=lambda q: -q.tries), errors, strict=True):
        assert q.id in line.getMessage() and "ValueError" in line.getMessage()
    assert all(SECRET not in r.getMessage() for r in caplog.records)
    assert not any(SECRET.encode() in (redis_client.dump(k) or b"")
                   for k in redis_client.scan_iter(match=f"{key_prefix}:quarantine*"))  # fmt: skip

    # The provider is not blind: a later poll commits, and the good incident's next
    # update still reaches its thread, while the quarantined event is not tried again.
    assert run.poll("acme", 3) in ("not_modified", "unchanged")
    good.add("identified", _at(3), "Found it: a bad deploy.")
    feeds.put("/acme.json", summary_json([bad, good]))
    assert run.poll("acme", 4) == "changed"
    (opened,) = _posted(slack, "Elevated API errors")
    (update,) = slack.thread(opened["ts"])
    assert "bad deploy" in json.dumps(update["body"])
    assert sorted(QuarantineStore(redis_client, key_prefix).tries("event", q.id)
                  for q in held) == [3]  # fmt: skip
    assert release.reconcile(run.rt, run.to(), run.now + timedelta(minutes=10)) == (0, 0)
    metrics = render_metrics(redis_client, key_prefix, "unused").decode()
    assert 'notifier_quarantined_total{kind="event",stage="planning"} 1.0' in metrics
    assert 'notifier_quarantine{kind="event"} 1.0' in metrics


def test_an_alert_whose_rendering_raises_is_retried_within_a_minute_then_quarantined(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    served: tuple[FeedServer, FakeSlack], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    feeds, slack = served
    incident = FakeIncident(GOOD, "Elevated API errors").add("investigating", _at(-4), "Hmm.")
    feeds.put("/acme.json", summary_json([incident]))
    feeds.put("/beta.json", summary_json([], page="Beta Pay"))
    two = ("  - name: platform\n    slack: {channel: '#platform'}\n"
           "  - name: data\n    slack: {channel: '#data'}\n")  # fmt: skip
    run, _ = _runtime(tmp_path, redis_url, key_prefix, feeds, slack, subscribers=two)
    real = blocks.parent_message

    def render(alert: Any, *args: Any, **kwargs: Any) -> Any:
        if alert.subscriber == "platform":  # the first alert of the chunk
            raise KeyError(f"no such block ({SECRET})")
        return real(alert, *args, **kwargs)

    monkeypatch.setattr(blocks, "parent_message", render)
    # This made-up bug reads the subscriber, which no renderer does: a rendering shared
    # by every subscriber of the event (RenderMemo) would hide it, so each renders here.
    monkeypatch.setattr(RenderMemo, "get", lambda self, what, alert, build, *extra: build())
    assert run.poll("acme", 0) == "changed"
    # One chunk of two: the first raised, the second was still delivered.
    (sent,) = slack.messages
    assert sent["channel"] == slack._channel_id("#data")
    assert run.rt is not None
    (key,) = [k for k, _, _ in run.rt.retries.upcoming() if "/platform/" in k]
    assert run.sweep(0.5) == 0  # waits its minute, not the 30-minute reconcile sweep
    assert run.sweep(1.1) == 1  # try 2 fails
    assert run.sweep(2.2) == 1  # try 3 fails: quarantined
    assert run.rt.alerts.status(key) is AlertStatus.FAILED
    record = run.rt.delivery.log.get(key)
    assert record is not None and record.outcome is AlertStatus.FAILED
    assert record.error == "quarantined: delivery: KeyError"
    assert run.sweep(10) == 0 and len(slack.messages) == 1
    (held,) = QuarantineStore(redis_client, key_prefix).listed(run.now)
    assert (held.member, held.channel, held.tries) == (f"alert:{key}", "slack", 3)
    assert held.where.endswith(" in render")
    assert release.reconcile(run.rt, run.to(), run.now + timedelta(hours=1)) == (0, 0)

    # Fixed and let out: `notifier quarantine retry` hands it back, and it is delivered.
    monkeypatch.undo()
    quarantine.release(redis_client, key_prefix, held, run.now)
    assert QuarantineStore(redis_client, key_prefix).listed(run.now) == []
    assert release.reconcile(run.rt, run.to(), run.now) == (0, 1)
    assert [m["channel"] for m in slack.messages] == [
        slack._channel_id("#data"),
        slack._channel_id("#platform"),
    ]
    assert run.rt.alerts.status(key) is AlertStatus.DELIVERED


def test_infrastructure_failures_are_never_counted_against_an_event(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    served: tuple[FeedServer, FakeSlack], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    feeds, slack = served
    incident = FakeIncident(GOOD, "Elevated API errors").add("investigating", _at(-4), "Hmm.")
    feeds.put("/acme.json", summary_json([incident]))
    feeds.put("/beta.json", summary_json([], page="Beta Pay"))
    run, _ = _runtime(tmp_path, redis_url, key_prefix, feeds, slack)
    blinking = _raising_for(GOOD, planner.route_event, exc=redis.ConnectionError)
    monkeypatch.setattr(planner, "route_event", blinking)
    for minute in range(4):  # inline planning gives up and queues it; the queue fails too
        with pytest.raises(redis.ConnectionError):
            run.poll("acme", minute)
    assert QuarantineStore(redis_client, key_prefix).listed(run.now) == []
    assert QuarantineStore(redis_client, key_prefix).counts(run.now) == {"event": 0, "alert": 0}
    monkeypatch.undo()
    assert run.poll("acme", 5) == "changed" and len(slack.messages) == 1


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    """`get_settings()` read again from the environment the test sets, and after it."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("fresh_settings")
def test_status_the_console_and_metrics_list_what_is_quarantined(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    served: tuple[FeedServer, FakeSlack], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    feeds, slack = served
    bad = FakeIncident(POISON, "Poisoned incident").add("investigating", _at(-5), "Hmm.")
    feeds.put("/acme.json", summary_json([bad]))
    feeds.put("/beta.json", summary_json([], page="Beta Pay"))
    run, config = _runtime(tmp_path, redis_url, key_prefix, feeds, slack)
    for name, value in (("REDIS_URL", redis_url), ("KEY_PREFIX", key_prefix),
                        ("CONFIG", str(config))):  # fmt: skip
        monkeypatch.setenv(f"NOTIFIER_{name}", value)

    def notifier(*argv: str) -> tuple[int, str, str]:
        """The command, run in this process as `notifier.cli.main` runs it (a subprocess
        costs seconds each); its output is written to `out`, not to whatever `sys.stdout`
        was when the module was first imported."""
        args = build_parser().parse_args(list(argv))
        out = io.StringIO()
        code = args.func(args, out)
        return code, out.getvalue(), capsys.readouterr().err

    bug = pytest.MonkeyPatch()
    bug.setattr(planner, "route_event", _raising_for(POISON, planner.route_event))
    try:
        for minute in (0, 1):
            with pytest.raises(ValueError):
                run.poll("acme", minute)
        assert json.loads(notifier("status", "--json")[1])["quarantine"]["events"] == 0
        assert run.poll("acme", 2) == "changed"  # the third try: the event given up on
    finally:
        bug.undo()

    text = notifier("status")[1]
    assert "quarantined: 1 event, 0 alerts" in text
    ids = [q.id for q in QuarantineStore(redis_client, key_prefix).listed(run.now)]
    for event_id in ids:
        line = next(ln for ln in text.splitlines() if f"event:{event_id}" in ln)
        assert "planning: ValueError" in line and f"acme/{POISON}" in line
    body = json.loads(notifier("status", "--json")[1])["quarantine"]
    assert (body["events"], body["alerts"]) == (1, 0)
    assert {i["id"] for i in body["items"]} == set(ids)
    assert SECRET not in text and SECRET not in json.dumps(body)

    ctx = WebWiring(redis_client, key_prefix, f"{key_prefix}:celery:", LIMITS)
    web = WebThread(create_app(ctx), bind("127.0.0.1", 0)).start()
    try:
        with urllib.request.urlopen(web.url + "/metrics", timeout=10) as resp:
            metrics = resp.read().decode()
        with pytest.raises(urllib.error.HTTPError) as unhealthy:  # no beat or worker here
            urllib.request.urlopen(web.url + "/", timeout=10)
        page = unhealthy.value.read().decode()
    finally:
        web.stop()
    assert 'notifier_quarantine{kind="event"} 1.0' in metrics
    assert 'notifier_quarantine{kind="alert"} 0.0' in metrics
    assert "Quarantine: 1 given up on" in page
    assert page.count('<tr class="quarantined" data-kind="event">') == 1
    assert f'href="/incidents/acme/{POISON}"' in page

    # `notifier quarantine`: the same list, and a retry once the bug is fixed.
    code, out, _ = notifier("quarantine", "list", "--json")
    assert code == 0 and {json.loads(line)["id"] for line in out.splitlines()} == set(ids)
    code, out, _ = notifier("quarantine", "list")
    assert out.count("raised at test_quarantine.py:") == 1 and out.count("event:") == 1
    code, _, err = notifier("quarantine", "retry", "event:no-such-event")
    assert code == 1 and "nothing quarantined" in err
    for event_id in ids:
        code, out, _ = notifier("quarantine", "retry", event_id)
        assert code == 0 and f"event:{event_id}: out of quarantine" in out
    assert "quarantined: 0 events, 0 alerts" in notifier("status")[1]
    assert run.rt is not None
    assert release.reconcile(run.rt, run.to(), datetime.now(UTC)) == (1, 0)
    assert len(_posted(slack, "Poisoned incident")) == 1

"""The planner end to end: one page per incident or cascade, threads, resolutions,
idempotent re-runs, annotations that never block."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
import redis

from notifier.channels.console.text import render_text
from notifier.channels.kinds import pages_only
from notifier.models import Alert, AlertKind, ChangeEvent, EventKind, Impact, Incident
from notifier.pipeline.plan import event as planner
from notifier.pipeline.plan.event import process_event
from notifier.pipeline.replay import ReplayPlanner
from notifier.pipeline.runtime.destinations import Destinations
from notifier.route.grouping import ThreadRegistry
from notifier.store.delivery.alerts import AlertStore, InMemoryAlertStore
from notifier.store.delivery.status import AlertStatus
from notifier.store.delivery.threads import InMemoryThreadStore, RedisThreadStore
from tests.planning_helpers import at, config, event, incident, test_catalog
from tests.support.roundtrips import RoundTrips

PAGES_ONLY = pages_only()

BASE = """
providers:
  - id: openai
  - id: azure
subscribers:
  - name: ops
    slack: {channel: "#ops"}
    sms: {to: ["+15550100"]}
    email: {to: [ops@example.com]}
    filters: {providers: [openai]}
"""


class Harness:
    """process_event with in-memory stores and a growing world, like a running service."""

    def __init__(
        self,
        cfg_text: str,
        threads: ThreadRegistry | None = None,
        alerts: AlertStore | InMemoryAlertStore | None = None,
        dependants: int = 0,
    ) -> None:
        self.cfg = config(cfg_text, test_catalog(dependants))
        self.threads: ThreadRegistry = threads or InMemoryThreadStore()
        self.alerts = alerts or InMemoryAlertStore()
        self.world: dict[tuple[str, str], Incident] = {}

    def run(self, ev: ChangeEvent, now: str | None = None) -> list[Alert]:
        self.world[(ev.provider, ev.incident_id)] = ev.incident
        when = at(now) if now else ev.detected_at
        out = process_event(
            ev, self.cfg, list(self.world.values()), self.threads, self.alerts, when,
            pages_only=PAGES_ONLY,
        )  # fmt: skip
        for a in out:
            self.alerts.finish(a.dedup_key, AlertStatus.DELIVERED, when)
        return out

    def text(self, alert: Alert) -> str:
        """The alert as a reader sees it (the console's plain text, as in a replay)."""
        return render_text(alert, Destinations(self.cfg).presentation())


def _by_channel(alerts: Sequence[Alert]) -> dict[str, Alert]:
    return {a.channel: a for a in alerts}


def test_the_first_alert_pages_and_later_ones_thread_without_paging() -> None:
    h = Harness(BASE)
    inc = incident("openai", "o1", "2024-12-26 19:00")
    first = _by_channel(h.run(event(inc)))
    assert set(first) == {"slack", "sms", "email"}
    assert all(a.page and a.kind is AlertKind.NEW for a in first.values())
    update = _by_channel(h.run(event(inc, EventKind.NEW_UPDATE, "2024-12-26 19:30")))
    # SMS carries pages only; the update goes to the Slack and email threads
    assert set(update) == {"slack", "email"}
    assert not any(a.page for a in update.values())
    assert update["slack"].thread_key == first["slack"].thread_key
    assert update["email"].thread_key == first["email"].thread_key
    done = incident("openai", "o1", "2024-12-26 19:00", resolved="2024-12-26 21:00")
    resolved = _by_channel(h.run(event(done, EventKind.RESOLVED, "2024-12-26 21:00")))
    # the page gets its all-clear on every channel
    assert set(resolved) == {"slack", "sms", "email"}
    assert resolved["sms"].kind is AlertKind.RESOLVED and resolved["sms"].page


def test_a_channel_events_list_makes_updates_page() -> None:
    h = Harness(
        BASE + "    channels_filters:\n      sms: {events: [new_incident, new_update, resolved]}\n"
    )
    inc = incident("openai", "o1", "2024-12-26 19:00")
    h.run(event(inc))
    update = _by_channel(h.run(event(inc, EventKind.NEW_UPDATE, "2024-12-26 19:30")))
    assert update["sms"].page and not update["slack"].page


def test_the_same_event_twice_is_delivered_once() -> None:
    h = Harness(BASE)
    ev = event(incident("openai", "o1", "2024-12-26 19:00"))
    assert len(h.run(ev)) == 3
    assert h.run(ev) == []


def test_a_rerun_after_a_crash_returns_the_pending_alerts_unchanged() -> None:
    h = Harness(BASE)
    ev = event(incident("openai", "o1", "2024-12-26 19:00"))
    now = at("2024-12-26 19:01")
    world = [ev.incident]
    first = process_event(
        ev, h.cfg, world, h.threads, h.alerts, now, pages_only=PAGES_ONLY
    )  # never delivered
    again = process_event(ev, h.cfg, world, h.threads, h.alerts, now, pages_only=PAGES_ONLY)
    assert again == first
    assert all(a.page for a in again)


def test_a_crash_between_thread_and_claim_still_pages() -> None:
    h = Harness(BASE)
    ev = event(incident("openai", "o1", "2024-12-26 19:00"))
    world = [ev.incident]
    # the first run opened the threads, then died before claiming: a fresh alert store
    process_event(
        ev,
        h.cfg,
        world,
        h.threads,
        InMemoryAlertStore(),
        at("2024-12-26 19:01"),
        pages_only=PAGES_ONLY,
    )
    rerun = _by_channel(
        process_event(
            ev, h.cfg, world, h.threads, h.alerts, at("2024-12-26 19:02"), pages_only=PAGES_ONLY
        )
    )
    assert set(rerun) == {"slack", "sms", "email"} and rerun["sms"].page


CASCADE = """
providers:
  - id: cloudflare
{deps}
subscribers:
  - name: ops
    slack: {{channel: "#ops"}}
    sms: {{to: ["+15550100"]}}
{filters}
"""


def _cascade_config(n: int, route_upstream: bool) -> str:
    deps = "\n".join(f"  - id: dep{i:02d}" for i in range(1, n + 1))
    ids = ", ".join(f"dep{i:02d}" for i in range(1, n + 1))
    filters = "" if route_upstream else f"    filters: {{providers: [{ids}]}}"
    return CASCADE.format(deps=deps, filters=filters)


def _run_cascade(h: Harness, n: int) -> tuple[list[Alert], list[Alert]]:
    """Cloudflare at 12:00, then n dependants one minute apart, then all resolve."""
    upstream = incident("cloudflare", "cf", "2025-06-12 12:00", title="Cloudflare dashboard errors")
    opened = h.run(event(upstream))
    start = at("2025-06-12 12:00")
    for i in range(1, n + 1):
        t = (start + timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M")
        opened += h.run(event(incident(f"dep{i:02d}", f"d{i}", t)))
    closed = []
    for i in range(1, n + 1):
        inc = incident(f"dep{i:02d}", f"d{i}", "2025-06-12 12:05", resolved="2025-06-12 14:00")
        closed += h.run(event(inc, EventKind.RESOLVED, "2025-06-12 14:00"))
    return opened, closed


@pytest.mark.parametrize(
    "route_upstream", [True, False], ids=["upstream-routed", "dependants-only"]
)
def test_a_cascade_of_twenty_dependants_is_one_page(route_upstream: bool) -> None:
    n = 20
    h = Harness(_cascade_config(n, route_upstream), dependants=n)
    opened, closed = _run_cascade(h, n)
    pages = [a for a in opened if a.page]
    assert len([a for a in pages if a.channel == "sms"]) == 1
    slack = [a for a in opened if a.channel == "slack"]
    assert len(slack) == (n + 1 if route_upstream else n)
    assert len({a.thread_key for a in slack}) == 1  # one Slack thread for the lot
    attached = [a for a in slack if a.attached_to]
    assert len(attached) == n if route_upstream else n - 1
    last = h.text(attached[-1])
    assert last.startswith("[MAJOR] Dependant 20: Elevated errors")  # its own alert first
    lead = "Cloudflare" if route_upstream else "Dependant 01"
    assert f"\n  Grouped with the {lead} incident" in last
    assert "also affected" not in last
    # every attached incident's resolution still reaches the thread (not SMS: never paged)
    resolved = [a for a in closed if a.channel == "slack"]
    assert len(resolved) == n and {a.thread_key for a in resolved} == {slack[0].thread_key}
    expected_sms = [] if route_upstream else ["dep01"]
    assert [a.event.provider for a in closed if a.channel == "sms"] == expected_sms


def test_a_cascade_is_grouped_the_same_way_in_redis(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    n = 5
    h = Harness(
        _cascade_config(n, True),
        threads=RedisThreadStore(redis_client, key_prefix),
        alerts=AlertStore(redis_client, key_prefix),
        dependants=n,
    )
    opened, _ = _run_cascade(h, n)
    assert len([a for a in opened if a.page]) == 2  # the Cloudflare alert on Slack and SMS
    assert len({a.thread_key for a in opened if a.channel == "slack"}) == 1


def test_an_old_upstream_incident_does_not_swallow_new_pages() -> None:
    h = Harness(_cascade_config(1, True), dependants=1)
    h.run(event(incident("cloudflare", "cf", "2025-06-12 06:00")))  # six hours earlier
    dep = h.run(event(incident("dep01", "d1", "2025-06-12 12:00")))
    assert any(a.channel == "sms" and a.page and not a.attached_to for a in dep)


def test_upstream_incidents_are_searched_once_per_event(monkeypatch: pytest.MonkeyPatch) -> None:
    import notifier.annotate.correlate as correlate

    calls: list[str] = []
    search = correlate.upstream_candidates

    def counted(incident: Incident, *args: Any) -> Any:
        calls.append(incident.provider)
        return search(incident, *args)

    monkeypatch.setattr(correlate, "upstream_candidates", counted)
    h = Harness(BASE)
    h.run(event(incident("azure", "az", "2024-12-26 18:05")))
    calls.clear()
    out = h.run(event(incident("openai", "o1", "2024-12-26 19:00")))
    assert len(out) == 3  # slack, sms and email, annotated and grouped
    assert out[0].annotations[0].provider == "azure"
    assert calls == ["openai"]  # once, for the annotations and the cascade roots alike


def test_annotations_failing_never_block_delivery(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> tuple[()]:
        raise RuntimeError("boom")

    monkeypatch.setattr(planner, "annotate", broken)
    h = Harness(BASE)
    out = h.run(event(incident("openai", "o1", "2024-12-26 19:00")))
    assert len(out) == 3 and all(a.annotations == () for a in out)


def test_untrusted_links_are_left_out_of_the_text() -> None:
    h = Harness(BASE)
    inc = incident("openai", "o1", "2024-12-26 19:00")
    ok = h.text(h.run(event(inc))[0])
    assert "https://status.openai.example/incidents/o1" in ok
    from dataclasses import replace

    evil = replace(incident("openai", "o2", "2024-12-26 19:00"), url="https://phish.example/x")
    assert "phish" not in h.text(h.run(event(evil))[0])


def test_replay_lines_have_exactly_the_documented_keys() -> None:
    p = ReplayPlanner(config(BASE))
    azure = incident(
        "azure", "az", "2024-12-26 18:05", title="Power event", regions=("South Central US",)
    )
    assert p.alerts(event(azure), at("2024-12-26 18:10")) == []  # ops filters azure out
    lines = p.alerts(
        event(incident("openai", "o1", "2024-12-26 19:00", impact=Impact.MAJOR)),
        at("2024-12-26 19:05"),
    )
    assert [ln["channel"] for ln in lines] == ["slack", "sms", "email"]
    line = lines[0]
    assert list(line) == [
        "type", "at", "subscriber", "channel", "provider", "incident_id", "kind",
        "dedup_key", "thread_key", "annotations", "text",
    ]  # fmt: skip
    assert (
        line["type"] == "alert" and line["kind"] == "new" and line["at"] == "2024-12-26T19:05:00Z"
    )
    assert line["annotations"][0] == {
        "kind": "upstream",
        "provider": "azure",
        "incident_id": "az",
        "text": "Possible upstream cause: Microsoft Azure — 'Power event', "
        "active since 18:05 UTC, 55 min earlier; OpenAI runs on Microsoft Azure (publicly stated)",
    }


def test_routing_a_large_subscription_file_asks_redis_for_threads_in_bulk(
    redis_url: str, key_prefix: str
) -> None:
    # 600 subscribers, one of whom watches OpenAI: routing asks all 600 whether the
    # incident reached them. That must be a couple of MGETs, not a GET each.
    subscribers = "".join(
        f"  - name: team{n:03d}\n    slack: {{channel: '#t{n:03d}'}}\n"
        f"    filters: {{providers: [{'openai' if n == 0 else 'azure'}]}}\n"
        for n in range(600)
    )
    client = redis.Redis.from_url(redis_url)
    trips = RoundTrips(client)
    h = Harness(
        "providers:\n  - id: openai\n  - id: azure\nsubscribers:\n" + subscribers,
        threads=RedisThreadStore(client, key_prefix),
        alerts=AlertStore(client, key_prefix),
    )
    try:
        h.run(event(incident("openai", "o0", "2024-12-26 18:00")))  # loads the scripts
        ev = event(incident("openai", "o1", "2024-12-26 19:00"))
        before = trips.count
        (alert,) = process_event(
            ev, h.cfg, [ev.incident], h.threads, h.alerts, ev.detected_at, pages_only=PAGES_ONLY
        )
        assert alert.subscriber == "team000"
        # One round trip reads every route's thread and cascade registration (MGETs);
        # one more writes the route's cascade root, thread, cascade member and claim
        # (the first script by EVAL, the rest by its SHA: no SCRIPT EXISTS first), and
        # one asks whether the event has its own record (a yes is remembered per process).
        assert trips.count - before == 3
    finally:
        client.close()  # the test's keys: `key_prefix` drops them


ONCALL_CASCADE = """
providers:
  - id: cloudflare
{deps}
services:
  shop: {{depends_on: [dep03]}}
subscribers:
  - name: oncall
    sms: {{to: ["+15550100"]}}
    filters: {{min_impact: major}}
"""


def test_twenty_providers_folding_in_ten_minutes_text_the_on_call_at_most_three_times() -> None:
    n = 20
    deps = "\n".join(f"  - id: dep{i:02d}\n    name: D{i:02d}" for i in range(1, n + 1))
    p = ReplayPlanner(config(ONCALL_CASCADE.format(deps=deps), test_catalog(n)))
    start = at("2025-06-12 12:00")
    lines = p.alerts(event(incident("cloudflare", "cf", "2025-06-12 12:00")), start)
    for i in range(1, n + 1):
        when = start + timedelta(seconds=30 * i)  # twenty in ten minutes
        inc = incident(f"dep{i:02d}", f"d{i}", when.strftime("%Y-%m-%d %H:%M:%S"))
        lines += p.alerts(event(inc), when)
    lines += p.finish()
    texts = [ln for ln in lines if ln["channel"] == "sms"]
    assert 1 < len(texts) <= 3
    assert [t["kind"] for t in texts] == ["new"] + ["follow_up"] * (len(texts) - 1)
    assert [t["at"] for t in texts] == [
        "2025-06-12T12:00:00Z", "2025-06-12T12:05:00Z", "2025-06-12T12:10:00Z",
    ][: len(texts)]  # fmt: skip
    named = " ".join(t["text"] for t in texts)
    assert all(f"+D{i:02d} major" in named for i in range(1, n + 1))
    assert "likely caused by the Cloudflare incident; affects shop" in named


def test_a_follow_up_text_names_every_member_in_one_segment() -> None:
    from notifier.channels.sms import gsm
    from notifier.channels.sms.channel import follow_up_text
    from notifier.models import FoldedIncident

    def alert(*members: FoldedIncident) -> Alert:
        ev = event(incident("openai", "o1", "2024-12-26 19:05"))
        return Alert("k", "t", AlertKind.FOLLOW_UP, "oncall", "sms", ev, folded=members)

    one = FoldedIncident(
        "OpenAI", "o1", Impact.CRITICAL, ("ChatGPT", "API", "Sora"), ("chatbot",), "Azure"
    )
    assert follow_up_text(alert(one)) == (
        "Also down: +OpenAI critical (ChatGPT, API, Sora), likely caused by the Azure "
        "incident; affects chatbot"
    )
    many = [FoldedIncident(f"Provider {i}", f"p{i}", Impact.MAJOR, ("API",)) for i in range(9)]
    text = follow_up_text(alert(*many))
    assert gsm.encode(text).units <= gsm.GSM_LIMIT
    assert all(f"+Provider {i}" in text for i in range(9))  # detail dropped, names kept

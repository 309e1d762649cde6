"""Synthetic probes: an unconfirmed early warning before the status page admits
anything, the provider's own incident joined to it, and one all-clear otherwise.

`run_probe` runs probe `n` of a provider once and decides:

- after `failures_to_alert` consecutive failures, while the provider's status page
  shows no open incident and no warning of it is open, a `probe_failure` event: a
  synthetic incident (`probe-<n>-<first failure>`) whose one update says, e.g.,
  "OpenAI's status page still says operational; our probe of api.openai.com has
  failed 3 times since 18:31 UTC (timeouts)". It is routed like any opening alert
  (Slack, email; SMS only where a route's `events` list names `probe_failure`:
  `notifier.pipeline.plan.event`) and opens a thread.
- when the provider's own incident appears while the warning is open, the planner
  puts it in the warning's thread, noting "Confirmed by OpenAI at 19:00 UTC, 29 min
  after our first failed probe", and pages no one again (`notifier.pipeline.plan.event`).
- when the probe that raised the warning succeeds again: if no incident of the
  provider joined the warning, one `probe_recovered` event, the warning thread's
  all-clear; either way the warning is closed.

Event ids are stable per warning, so a retried probe task re-sends, never doubles.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

from pydantic import SecretStr

from notifier.config.schema.fields import env_secret
from notifier.config.schema.providers import ProbeSpec
from notifier.config.schema.resolution import ResolvedProvider
from notifier.diff.events import event_id
from notifier.feeds.probe import Prober, ProbeResult
from notifier.models import (
    ChangeEvent,
    EventKind,
    Impact,
    Incident,
    IncidentKind,
    Status,
    Update,
    iso,
)
from notifier.store.feeds.probes import ProbeStore, Streak
from notifier.store.feeds.snapshot import ProviderState

Enqueue = Callable[[Sequence[ChangeEvent]], None]


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    result: ProbeResult
    failures: int  # the streak after this probe
    event: EventKind | None = None  # what it raised, if anything


def run_probe(
    provider: ResolvedProvider,
    n: int,
    prober: Prober,
    probes: ProbeStore,
    page_state: ProviderState | None,
    enqueue: Enqueue,
    now: datetime,
) -> ProbeOutcome:
    spec = provider.probes[n]
    result = prober.check(spec.url, spec.method, spec.expect_status, spec.timeout, _header(spec))
    before = probes.streak(provider.id, n)
    if result.ok:
        probes.save_streak(provider.id, n, Streak())
        event = _recovered(provider, n, spec, before, probes, enqueue, now)
        return ProbeOutcome(result, 0, event)
    streak = Streak(
        failures=before.failures + 1,
        since=before.since or now,
        causes=before.causes + Counter({result.cause or "failure": 1}),
        raised=before.raised,
    )
    event = None
    due = streak.failures >= spec.failures_to_alert and not streak.raised
    if due and not _page_admits(page_state):
        incident = _warning_incident(provider, n, spec, streak, now)
        if probes.raise_warning(provider.id, incident):
            streak = replace(streak, raised=True)
            update = incident.updates[0]
            enqueue([_event(EventKind.PROBE_FAILURE, incident, now, update)])
            event = EventKind.PROBE_FAILURE
    probes.save_streak(provider.id, n, streak)
    return ProbeOutcome(result, streak.failures, event)


def _recovered(
    provider: ResolvedProvider,
    n: int,
    spec: ProbeSpec,
    before: Streak,
    probes: ProbeStore,
    enqueue: Enqueue,
    now: datetime,
) -> EventKind | None:
    if not before.raised:
        return None
    warning = probes.warning(provider.id)
    probes.close_warning(provider.id)
    if warning is None or warning.confirmed is not None:
        return None  # the provider's own incident carries the story from here
    host = _host(spec.url)
    body = (
        f"Our probe of {host} works again as of {_clock(now)}; "
        f"{_possessive(provider.name)} status page never posted an incident."
    )
    update = Update(at=now, status=Status.RESOLVED, body=body, key=f"probe-ok@{iso(now)}")
    closed = replace(
        warning.incident, status=Status.RESOLVED, resolved_at=now, updated_at=now, updates=(update,)
    )
    enqueue([_event(EventKind.PROBE_RECOVERED, closed, now, update, token="recovered")])
    return EventKind.PROBE_RECOVERED


def _page_admits(state: ProviderState | None) -> bool:
    """The provider's status page shows an open incident (maintenance does not count)."""
    if state is None:
        return False
    return any(
        k.snapshot.is_active and k.snapshot.kind is IncidentKind.INCIDENT
        for k in state.incidents.values()
    )


def _warning_incident(
    provider: ResolvedProvider, n: int, spec: ProbeSpec, streak: Streak, now: datetime
) -> Incident:
    since = streak.since or now
    host = _host(spec.url)
    body = (
        f"{_possessive(provider.name)} status page still says operational; our probe of "
        f"{host} has failed {streak.failures} times since {_clock(since)} "
        f"({_causes(streak)})"
    )
    update = Update(at=now, status=Status.INVESTIGATING, body=body, key=f"probe@{iso(now)}")
    return Incident(
        provider=provider.id,
        id=f"probe-{n}-{since.astimezone(UTC):%Y%m%dT%H%M%SZ}",
        title=f"Unconfirmed: our probe of {host} is failing",
        url=None,
        status=Status.INVESTIGATING,
        impact=Impact.MINOR,  # unknown until the provider says; `min_impact` reads it so
        kind=IncidentKind.INCIDENT,
        started_at=since,
        updated_at=now,
        resolved_at=None,
        updates=(update,),
    )


def _event(
    kind: EventKind, incident: Incident, now: datetime, update: Update, token: str = "warn"
) -> ChangeEvent:
    return ChangeEvent(
        event_id=event_id(incident.provider, incident.id, kind, token),
        kind=kind,
        provider=incident.provider,
        incident_id=incident.id,
        detected_at=now,
        incident=incident,
        update=update,
    )


def _causes(streak: Streak) -> str:
    """'timeouts', 'HTTP 503', 'timeouts, connection refused': most frequent first."""
    names = []
    for cause, _ in streak.causes.most_common(3):
        names.append("timeouts" if cause == "timeout" else cause)
    return ", ".join(names) or "failures"


def _header(spec: ProbeSpec) -> tuple[str, SecretStr] | None:
    if spec.header is None:
        return None
    value = env_secret(spec.header.value_env)
    return (spec.header.name, value) if value is not None else None


def _host(url: str) -> str:
    return urlsplit(url).hostname or "?"


def _clock(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%H:%M UTC")


def _possessive(name: str) -> str:
    name = " ".join(name.split())
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def confirmation(name: str, incident: Incident, warning: Incident, now: datetime) -> str:
    """'Early warning: confirmed by OpenAI at 19:00 UTC, 29 min after our first failed
    probe'. The sentence carries its own label, as every annotation's does."""
    # When the provider admitted it: its first update (a start time may be backdated).
    posted = incident.updates[0].at if incident.updates else incident.started_at
    at = min(posted or now, now)
    minutes = max(0, int((at - (warning.started_at or now)).total_seconds() // 60))
    who = " ".join(name.split())
    return (f"Early warning: confirmed by {who} at {_clock(at)}, {minutes} min after our "
            "first failed probe")  # fmt: skip


__all__ = ["ProbeOutcome", "confirmation", "run_probe"]

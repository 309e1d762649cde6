"""Status-only feeds become incidents: `synthesize(memory, services, now)`, pure.

Microsoft 365's consumer posts, Xbox's service status and Meta's orgs.json say
"service X is degraded", not "incident N, update M". The diff calls this before
it compares incidents, so the rest of the pipeline sees ordinary incidents:

- A service that leaves its healthy state opens a synthesized incident once it
  has been seen unhealthy on `OPEN_AFTER` polls in a row. Its id is built from
  the provider, the service and the start (`synthetic_id`); the start is the
  time the feed gave at the first unhealthy poll, else that poll's time.
- While open, a change of what the feed says (its state or its text) is one
  update, at the feed's time for it (else the poll's).
- It resolves once the service has been seen healthy on `CLOSE_AFTER` polls in
  a row, at the time the feed gave at the first healthy poll (else that poll's)
  and in the feed's words of that poll.
- Hysteresis: a blip of one poll (unhealthy then healthy, or healthy then
  unhealthy while open) opens or closes nothing; degraded → healthy → degraded
  stays one incident. The price is one poll interval of delay each way.
- Where the feed names its own incident (`ServiceState.ref`, Microsoft's posts),
  that id and title are used and the feed's word counts at once: a declared
  incident opens at its first sighting and resolves at the first healthy one.
- A service that leaves the document is forgotten; an incident of it that was
  open is then resolved by the diff's absence rule (two polls, in notifier's words).

Memory across polls is `ProviderState.services` (`ServiceMemory`), which the
diff receives and returns like the rest of the state: this function only maps
(memory, document) to (incidents, memory), so the diff stays pure. A pending
change makes `ProviderState.recheck` true, so the poll stage reads an unchanged
document again to confirm it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from notifier.feeds.common import assign_update_keys
from notifier.models import Impact, Incident, IncidentKind, ServiceState, Status, Update, iso
from notifier.store.feeds.snapshot import ServiceMemory

OPEN_AFTER = 2  # consecutive unhealthy polls before a synthesized incident opens
CLOSE_AFTER = 2  # consecutive healthy polls before it resolves

_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Synthesis:
    incidents: tuple[Incident, ...]
    memory: dict[str, ServiceMemory]


def synthetic_id(provider: str, service: str, start: datetime) -> str:
    """Stable id of a synthesized incident: readable, and unique per provider, service, start."""
    slug = _SLUG.sub("-", service.lower()).strip("-")[:40] or "service"
    digest = hashlib.sha256(f"{provider}\x1f{service}\x1f{iso(start)}".encode()).hexdigest()[:6]
    return f"{slug}-{start.astimezone(UTC):%Y%m%dT%H%MZ}-{digest}"


def said(service: ServiceState) -> str:
    """What the feed says of a service, as compared between polls."""
    return f"{service.state}\x1f{service.message}"


def body(service: ServiceState) -> str:
    """The update text: the feed's message, else its state as written."""
    if service.message:
        return service.message
    return f"{service.name}: {service.state} (as the status page states it)"


def synthesize(
    memory: Mapping[str, ServiceMemory], services: Iterable[ServiceState], now: datetime
) -> Synthesis:
    """The incidents these service states stand for, and the memory to keep."""
    out: list[Incident] = []
    kept: dict[str, ServiceMemory] = {}
    for key, service in _merged(services).items():
        incident, remembered = _one(memory.get(key), service, now)
        if incident is not None:
            out.append(incident)
        if remembered is not None:
            kept[key] = remembered
    return Synthesis(tuple(out), kept)


def memory_key(service: ServiceState) -> str:
    """A declared incident is remembered by its own id, a plain state by its service."""
    return f"ref:{service.ref}" if service.ref else service.name


def _merged(services: Iterable[ServiceState]) -> dict[str, ServiceState]:
    """One state per key: the worst, when a document names a service twice."""
    by_key: dict[str, ServiceState] = {}
    for s in services:
        known = by_key.get(memory_key(s))
        if known is None or s.impact.rank > known.impact.rank:
            by_key[memory_key(s)] = s
    return by_key


def _one(
    known: ServiceMemory | None, s: ServiceState, now: datetime
) -> tuple[Incident | None, ServiceMemory | None]:
    at = s.at if s.at is not None and s.at <= now else now
    if s.healthy:
        if known is None or known.incident is None:
            return None, None  # healthy, or a blip that never opened: nothing to remember
        good = known.good + 1
        ok_at = known.healthy_at or at
        ok_text = known.healthy_text or body(s)
        if good >= (1 if known.declared else CLOSE_AFTER):
            return _resolved(known.incident, ok_at, ok_text), None
        return known.incident, replace(known, good=good, healthy_at=ok_at, healthy_text=ok_text)
    if known is not None and known.incident is not None:
        incident = known.incident
        if said(s) != known.said:
            incident = _updated(incident, s, at)
        return incident, replace(
            known, said=said(s), good=0, healthy_at=None, healthy_text="", incident=incident
        )
    bad = (known.bad if known else 0) + 1
    since = (known.since if known else None) or at
    if bad < (1 if s.ref else OPEN_AFTER):
        return None, ServiceMemory(said(s), bad=bad, since=since)
    incident = _opened(s, since, at)
    return incident, ServiceMemory(said(s), since=since, incident=incident, declared=bool(s.ref))


def _opened(s: ServiceState, since: datetime, at: datetime) -> Incident:
    first = Update(at=since, status=Status.INVESTIGATING, body=body(s))
    return Incident(
        provider=s.provider,
        id=s.ref or synthetic_id(s.provider, s.name, since),
        title=s.title or f"{s.name}: {s.state}",
        url=s.url,
        status=Status.INVESTIGATING,
        impact=s.impact,
        kind=IncidentKind.INCIDENT,
        started_at=since,
        updated_at=max(since, at),
        resolved_at=None,
        components=s.components or (s.name,),
        regions=s.regions,
        updates=_keyed([first]),
    )


def _updated(incident: Incident, s: ServiceState, at: datetime) -> Incident:
    last = incident.updates[-1].at if incident.updates else at
    when = max(at, last)
    update = Update(at=when, status=Status.UPDATE, body=body(s))
    return replace(
        incident,
        title=s.title or f"{s.name}: {s.state}",
        status=Status.UPDATE,
        impact=s.impact,
        updated_at=when,
        url=s.url or incident.url,
        updates=_keyed([*incident.updates, update]),
    )


def _resolved(incident: Incident, at: datetime, text: str) -> Incident:
    last = incident.updates[-1].at if incident.updates else at
    when = max(at, last)
    update = Update(at=when, status=Status.RESOLVED, body=text)
    return replace(
        incident,
        status=Status.RESOLVED,
        impact=incident.impact if incident.impact is not Impact.NONE else Impact.MINOR,
        updated_at=when,
        resolved_at=when,
        updates=_keyed([*incident.updates, update]),
    )


def _keyed(updates: list[Update]) -> tuple[Update, ...]:
    return assign_update_keys(updates)

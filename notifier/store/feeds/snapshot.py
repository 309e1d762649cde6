"""What the diff remembers about one provider between polls: `ProviderState`, and the
feed's own health streak (`FeedHealth`, decided by `notifier.diff.health`).

Compact on purpose. Per incident it keeps the last believed snapshot with at most
its newest update (enough to build a `resolved` event when an active list drops
it), the identities of every update ever seen (never forgotten, so a stale copy
cannot re-alert), and when it left the document. It round-trips through JSON
(`to_json` / `from_json`), which is how `notifier.store.feeds.providers` stores it in Redis.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from notifier.models import Incident, incident_from_dict, iso, parse_iso, to_jsonable

# Knowledge of an incident is dropped this long after it left the document.
RETENTION = timedelta(days=30)
# Closed incidents stay in the correlation index this long.
RECENT_WINDOW = timedelta(hours=6)
_LONG_AGO = datetime.min.replace(tzinfo=UTC)

_FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class FeedHealth:
    failures: int = 0  # consecutive failed polls
    unreachable: bool = False  # a feed_unreachable was emitted and not yet recovered
    since: datetime | None = None  # first failure of the current streak
    last_error: str | None = None  # sanitized
    # The class of the last failure, a code of `notifier.feeds.errors` ('dns', 'http:503',
    # 'html', …): kept as text here, read in plain words by `notifier status`.
    cause: str | None = None


@dataclass(frozen=True, slots=True)
class IncidentState:
    snapshot: Incident  # as last believed; `updates` holds at most the newest one
    seen: frozenset[str]  # every Update.key ever seen for this incident
    gone_at: datetime | None = None  # first poll that no longer listed it
    absent_resolved_at: datetime | None = None  # an active list dropped it at this time
    # Consecutive successful polls of an active list that lacked it while open: one
    # absence may be a glitch, so it is resolved on absence only at the second.
    missing: int = 0
    # Resolved on absence with no final update from the provider: a history lookup
    # may still find it (posted once, as a new_update).
    awaiting_final: bool = False

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"snap": to_jsonable(self.snapshot), "seen": sorted(self.seen)}
        if self.gone_at is not None:
            d["gone"] = iso(self.gone_at)
        if self.absent_resolved_at is not None:
            d["absent"] = iso(self.absent_resolved_at)
        if self.missing:
            d["miss"] = self.missing
        if self.awaiting_final:
            d["await"] = True
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> IncidentState:
        return cls(
            snapshot=incident_from_dict(d["snap"]),
            seen=frozenset(d["seen"]),
            gone_at=parse_iso(d.get("gone")),
            absent_resolved_at=parse_iso(d.get("absent")),
            missing=int(d.get("miss", 0)),
            awaiting_final=bool(d.get("await", False)),
        )


@dataclass(frozen=True, slots=True)
class ServiceMemory:
    """One service of a status-only feed, between polls (`notifier.diff.synth` decides).

    `bad` counts consecutive unhealthy polls before an incident opens, `good`
    consecutive healthy polls while one is open; `since` is when the unhealthy
    streak began (the feed's time, else the poll's); `incident` is the synthesized
    incident while it is open, with every update it has had; `healthy_at` and
    `healthy_text` are the feed's time and words of the first healthy poll, which
    the resolution quotes.
    """

    said: str  # what the feed last said: state and message
    bad: int = 0
    good: int = 0
    since: datetime | None = None
    incident: Incident | None = None
    healthy_at: datetime | None = None
    healthy_text: str = ""
    declared: bool = False  # the feed named the incident itself: its word counts at once

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"said": self.said}
        if self.declared:
            d["declared"] = True
        if self.bad:
            d["bad"] = self.bad
        if self.good:
            d["good"] = self.good
        if self.since is not None:
            d["since"] = iso(self.since)
        if self.incident is not None:
            d["inc"] = to_jsonable(self.incident)
        if self.healthy_at is not None:
            d["ok_at"] = iso(self.healthy_at)
        if self.healthy_text:
            d["ok_text"] = self.healthy_text
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ServiceMemory:
        return cls(
            said=str(d["said"]),
            bad=int(d.get("bad", 0)),
            good=int(d.get("good", 0)),
            since=parse_iso(d.get("since")),
            incident=incident_from_dict(d["inc"]) if d.get("inc") else None,
            healthy_at=parse_iso(d.get("ok_at")),
            healthy_text=str(d.get("ok_text", "")),
            declared=bool(d.get("declared", False)),
        )


@dataclass(frozen=True, slots=True)
class ProviderState:
    """The diff's knowledge of one provider; produced by `notifier.diff.engine.diff`.

    `floor` is the earliest start the first poll's history window showed: a closed
    incident we never knew that started before it is old history scrolling into
    the window (after an upstream deletion), not news.
    """

    polled_at: datetime | None = None
    floor: datetime | None = None
    incidents: Mapping[str, IncidentState] = field(default_factory=dict)
    # Status-only feeds: each service that is not plainly healthy (keyed by name).
    services: Mapping[str, ServiceMemory] = field(default_factory=dict)

    @property
    def recheck(self) -> bool:
        """An incident missed one poll of an active list, or a service's change of
        state awaits its confirming poll: the next poll must read the document again
        even when it is unchanged, to confirm it."""
        pending = any(m.good or (m.bad and m.incident is None) for m in self.services.values())
        return pending or any(known.missing for known in self.incidents.values())

    def to_json(self) -> bytes:
        d = {
            "v": _FORMAT_VERSION,
            "polled_at": iso(self.polled_at),
            "floor": iso(self.floor),
            "incidents": {k: v.to_dict() for k, v in sorted(self.incidents.items())},
        }
        if self.services:
            d["services"] = {k: v.to_dict() for k, v in sorted(self.services.items())}
        return json.dumps(d, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> ProviderState:
        d = json.loads(data)
        if d.get("v") != _FORMAT_VERSION:
            raise ValueError(f"unknown provider state version {d.get('v')!r}")
        return cls(
            polled_at=parse_iso(d.get("polled_at")),
            floor=parse_iso(d.get("floor")),
            incidents={k: IncidentState.from_dict(v) for k, v in d["incidents"].items()},
            services={k: ServiceMemory.from_dict(v) for k, v in d.get("services", {}).items()},
        )


def compact(incident: Incident) -> Incident:
    """The snapshot worth keeping: everything but the older updates' bodies."""
    return replace(incident, updates=incident.updates[-1:])


def first_time(incident: Incident) -> datetime | None:
    """When the provider first spoke of the incident: its start or first update,
    whichever is earlier (a maintenance's start is its future window)."""
    times = [t for t in (incident.started_at, *(u.at for u in incident.updates[:1])) if t]
    return min(times) if times else incident.updated_at


def recent_until(known: IncidentState) -> datetime | None:
    """Until when an incident counts as recent for correlation; None: while it stays open."""
    snap = known.snapshot
    if snap.is_active:
        # open but scrolled out of a history window: keep it no longer than a closed one
        return known.gone_at + RECENT_WINDOW if known.gone_at else None
    closed = known.absent_resolved_at or snap.resolved_at or snap.updated_at
    if closed is None and snap.updates:
        closed = snap.updates[-1].at
    return closed + RECENT_WINDOW if closed else _LONG_AGO


def recent_incidents(state: ProviderState, now: datetime) -> list[Incident]:
    """The incidents of one provider that count as recent at `now`."""
    out = []
    for known in state.incidents.values():
        until = recent_until(known)
        if until is None or now < until:
            out.append(known.snapshot)
    return out


__all__ = [
    "RECENT_WINDOW",
    "RETENTION",
    "IncidentState",
    "ProviderState",
    "ServiceMemory",
    "compact",
    "first_time",
    "recent_incidents",
    "recent_until",
]

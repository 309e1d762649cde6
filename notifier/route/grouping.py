"""Threads and cascades: one page per incident, or per cascade, with no added latency.

The first alert about an incident on a route (subscriber + channel) goes out at once
and opens a thread; later alerts of that incident share its `thread_key` and do not
page unless the route's own `events` list asks for them. When the incident starts
while an upstream it depends on has an active incident, it joins that upstream's
cascade thread instead (`attached_to`, no page): a Cloudflare outage with hundreds of
dependants is one page. The first member of a cascade to reach a route leads it, so
the grouping holds even when the upstream itself is not routed to that subscriber.

`decide` and `cascade_roots` are pure; `assign` applies a decision to the thread
registry (`notifier.store.delivery.threads`), whose set-if-absent writes make two workers
racing on one incident agree on one thread and one page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from notifier.annotate.correlate import UpstreamCandidate, reference_time
from notifier.models import AlertKind, Incident, iso
from notifier.store.delivery.threads import IncidentRef, RouteKey, ThreadEntry

CASCADE_WINDOW = timedelta(hours=4)  # an upstream that began longer ago is not this cascade
PAGING_FIRST = frozenset({AlertKind.NEW, AlertKind.UPDATE, AlertKind.REOPENED})
OPENING_KINDS = PAGING_FIRST  # the kinds whose first alert may join a cascade


class ThreadRegistry(Protocol):
    """What grouping needs of the thread store (`notifier.store.delivery.threads`)."""

    def get(self, route: RouteKey, incident: IncidentRef) -> ThreadEntry | None: ...

    def get_many(
        self, routes: Sequence[RouteKey], incident: IncidentRef
    ) -> dict[RouteKey, ThreadEntry | None]:
        """`get` for many routes of one incident at once."""
        ...

    def open(self, route: RouteKey, incident: IncidentRef, entry: ThreadEntry) -> ThreadEntry:
        """Store `entry` unless one exists; return the stored one."""
        ...

    def take_over(self, route: RouteKey, incident: IncidentRef, entry: ThreadEntry) -> None:
        """Replace the route's entry (an escalation took over a held opening)."""
        ...

    def cascade(self, route: RouteKey, root: IncidentRef) -> str | None:
        """The thread of the cascade rooted at `root`, if any."""
        ...

    def join_cascade(self, route: RouteKey, root: IncidentRef, thread_key: str) -> str:
        """Make `thread_key` the cascade's thread unless one exists; return the thread."""
        ...

    def add_member(self, route: RouteKey, thread_key: str, name: str) -> list[str]:
        """Record a provider name in a cascade thread; return all, first-come order."""
        ...


@dataclass(frozen=True, slots=True)
class Decision:
    thread_key: str
    page: bool
    attached_to: str | None
    opens: bool  # this alert is the incident's first on the route


@dataclass(frozen=True, slots=True)
class Opening:
    """What an alert that may open a thread brings to `assign`."""

    kind: AlertKind
    dedup_key: str
    explicit: bool  # the channel's own `events` filter names this change kind
    provider_name: str  # recorded as a cascade member when the alert opens
    shown_update: str  # key of the update the alert shows ("" when none)
    at: datetime | None = None  # when it was planned, kept as the thread's opening time
    held_until: datetime | None = None  # quiet hours hold this alert until then


def thread_key_for(route: RouteKey, incident: IncidentRef) -> str:
    return f"{route[0]}/{route[1]}/{incident[0]}/{incident[1]}"


def decide(
    kind: AlertKind,
    existing: ThreadEntry | None,
    dedup_key: str,
    own_thread: str,
    cascade_thread: str | None,
    explicit: bool,
) -> Decision:
    """Thread and page for one alert.

    existing: the route's entry for this incident (None: nothing sent yet);
    cascade_thread: the thread of the cascade this incident belongs to, if any;
    explicit: the channel's own `events` filter names this change kind.
    """
    if existing is not None and existing.opened_by != dedup_key:
        # a later alert of an incident the route has heard about
        attached = existing.attached_to is not None
        if kind is AlertKind.RESOLVED:
            page = existing.paged  # the page gets its all-clear
        elif kind is AlertKind.REOPENED:
            page = not attached
        else:
            page = explicit and not attached
        return Decision(existing.thread_key, page, existing.attached_to, opens=False)
    if cascade_thread is not None and cascade_thread != own_thread:
        return Decision(cascade_thread, False, cascade_thread, opens=True)
    page = kind in PAGING_FIRST or explicit
    return Decision(own_thread, page, None, opens=True)


def cascade_roots(
    incident: Incident, upstream: Sequence[UpstreamCandidate], now: datetime
) -> list[IncidentRef]:
    """The upstream incidents whose cascade this one may join, best first: those still
    active that began at most `CASCADE_WINDOW` before it."""
    ref = reference_time(incident, now)
    return [
        (c.incident.provider, c.incident.id)
        for c in upstream
        if c.incident.is_active and ref - reference_time(c.incident, now) <= CASCADE_WINDOW
    ]


def assign(
    threads: ThreadRegistry,
    route: RouteKey,
    incident: IncidentRef,
    existing: ThreadEntry | None,
    alert: Opening,
    roots: Sequence[IncidentRef],
) -> tuple[Decision, tuple[str, ...]]:
    """Decide an alert's thread and page, and record it when it opens the thread.

    Returns the decision and, for an alert that opened its thread, the members of
    that thread's cascade so far (first-come; the first leads it)."""
    own = thread_key_for(route, incident)
    first = existing is None or existing.opened_by == alert.dedup_key
    cascade = (
        _cascade_thread(threads, route, incident, roots, own)
        if first and alert.kind in OPENING_KINDS
        else None
    )
    decision = decide(alert.kind, existing, alert.dedup_key, own, cascade, alert.explicit)
    if not decision.opens:
        return decision, ()
    entry = ThreadEntry(
        decision.thread_key, alert.dedup_key, decision.page, decision.attached_to,
        alert.shown_update, iso(alert.at) or "", iso(alert.held_until) or "",
    )  # fmt: skip
    stored = threads.open(route, incident, entry)
    if stored.opened_by != alert.dedup_key:  # another worker opened it first: a follow-up
        return decide(alert.kind, stored, alert.dedup_key, own, None, alert.explicit), ()
    members = threads.add_member(route, decision.thread_key, alert.provider_name)
    return decision, tuple(members)


def _cascade_thread(
    threads: ThreadRegistry,
    route: RouteKey,
    incident: IncidentRef,
    roots: Sequence[IncidentRef],
    own: str,
) -> str:
    """The thread this incident's cascade uses on this route (its own when it leads)."""
    chosen = next((t for r in roots if (t := threads.cascade(route, r)) is not None), None)
    if chosen is None and roots:
        chosen = threads.join_cascade(route, roots[0], own)  # we lead the upstream's cascade
    # our own dependants join the same thread; one of them may have registered us first
    mine = threads.join_cascade(route, incident, chosen or own)
    return chosen or mine

"""One chunk of a fan-out in two Redis round trips: a read, then every write at once.

Planning a route used to cost four round trips (its claim, its cascade membership, its
thread, its cascade registration). A chunk of a few hundred routes of one event now
reads every route's thread entry and cascade registration in one prefetch
(`RedisThreadStore.prefetch`), decides locally, and sends the openings' writes and all
its claims in one pipeline (`flush`).

Why deciding locally is safe: the events of one provider are planned in order
(`notifier.pipeline.fanout`), and each route belongs to one chunk, so no other planner
opens this route's thread for this incident meanwhile. The same chunk run twice at once
(a re-sent task) writes the same entries and claims the same dedup keys, so one claim
wins and the other finds it (`claimed` is False). Writes that concern other incidents'
cascades (a cascade member's thread, an upstream's registration) go straight to the
store, as before: they are rare and their answers decide the thread.
"""

from __future__ import annotations

from collections.abc import Sequence

from notifier.models import Alert
from notifier.store.delivery.alerts import AlertStore
from notifier.store.delivery.threads import IncidentRef, RedisThreadStore, RouteKey, ThreadEntry


class DeferredThreads:
    """A thread registry for one event's chunk: reads from one prefetch, openings queued."""

    def __init__(self, store: RedisThreadStore, alerts: AlertStore, incident: IncidentRef) -> None:
        self.store, self.alerts, self.incident = store, alerts, incident
        self.pipe = store.client.pipeline(transaction=False)
        self.entries: dict[RouteKey, ThreadEntry | None] = {}
        self.cascades: dict[RouteKey, str | None] = {}
        self._claims: list[Alert] = []

    def get_many(
        self, routes: Sequence[RouteKey], incident: IncidentRef
    ) -> dict[RouteKey, ThreadEntry | None]:
        missing = [r for r in routes if r not in self.entries]
        if incident == self.incident and missing:
            entries, cascades = self.store.prefetch(missing, incident)
            self.entries.update(entries)
            self.cascades.update(cascades)
        elif missing:
            return self.store.get_many(routes, incident)
        return {r: self.entries[r] for r in routes}

    def get(self, route: RouteKey, incident: IncidentRef) -> ThreadEntry | None:
        if incident == self.incident:
            if route not in self.entries:
                self.get_many([route], incident)
            return self.entries[route]
        return self.store.get(route, incident)

    def open(self, route: RouteKey, incident: IncidentRef, entry: ThreadEntry) -> ThreadEntry:
        if incident != self.incident or self.entries.get(route) is not None:
            stored = self.store.open(route, incident, entry)
        else:
            self.store.open_into(self.pipe, route, incident, entry)
            stored = entry
        if incident == self.incident:
            self.entries[route] = stored
        return stored

    def take_over(self, route: RouteKey, incident: IncidentRef, entry: ThreadEntry) -> None:
        self.store.take_over(route, incident, entry)
        if incident == self.incident:
            self.entries[route] = entry

    def cascade(self, route: RouteKey, root: IncidentRef) -> str | None:
        if root == self.incident and route in self.cascades:
            return self.cascades[route]
        return self.store.cascade(route, root)

    def join_cascade(self, route: RouteKey, root: IncidentRef, thread_key: str) -> str:
        if root != self.incident or route not in self.cascades:
            return self.store.join_cascade(route, root, thread_key)
        found = self.cascades[route]
        if found is not None:
            return found
        self.store.join_cascade_into(self.pipe, route, root, thread_key)
        self.cascades[route] = thread_key
        return thread_key

    def add_member(self, route: RouteKey, thread_key: str, name: str) -> list[str]:
        own = f"{route[0]}/{route[1]}/{self.incident[0]}/{self.incident[1]}"
        if thread_key != own:  # a cascade's thread: its members name the alert's group
            return self.store.add_member(route, thread_key, name)
        # The route's own thread: its member list only matters once others join it.
        self.store.add_member_into(self.pipe, thread_key, name)
        return [name]

    def claim(self, alert: Alert) -> None:
        """Queue the alert's claim; `flush` says whether it won."""
        self.alerts.claim_into(self.pipe, alert)
        self._claims.append(alert)

    def flush(self) -> list[tuple[Alert, bool]]:
        """Send the queued writes and claims in one round trip: each alert, and whether
        this call created its record (False: claimed before)."""
        replies = self.pipe.execute() if len(self.pipe) else []
        won = replies[len(replies) - len(self._claims) :]
        out = [(a, bool(r)) for a, r in zip(self._claims, won, strict=True)]
        self._claims = []
        return out

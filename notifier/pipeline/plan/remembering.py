"""A thread registry that remembers what it read for one event."""

from __future__ import annotations

from collections.abc import Sequence

from notifier.route.grouping import ThreadRegistry
from notifier.store.delivery.threads import IncidentRef, RouteKey, ThreadEntry


class RememberingThreads:
    """A ThreadRegistry that remembers its `get`s for one event: routing and grouping ask
    for the same thread entry, and a fan-out to 1,000 routes should not ask Redis twice."""

    def __init__(self, inner: ThreadRegistry) -> None:
        self.inner = inner
        self.seen: dict[tuple[RouteKey, IncidentRef], ThreadEntry | None] = {}

    def get(self, route: RouteKey, incident: IncidentRef) -> ThreadEntry | None:
        if (route, incident) not in self.seen:
            self.seen[(route, incident)] = self.inner.get(route, incident)
        return self.seen[(route, incident)]

    def get_many(
        self, routes: Sequence[RouteKey], incident: IncidentRef
    ) -> dict[RouteKey, ThreadEntry | None]:
        missing = [r for r in routes if (r, incident) not in self.seen]
        if missing:
            for route, entry in self.inner.get_many(missing, incident).items():
                self.seen[(route, incident)] = entry
        return {r: self.seen[(r, incident)] for r in routes}

    def open(self, route: RouteKey, incident: IncidentRef, entry: ThreadEntry) -> ThreadEntry:
        stored = self.inner.open(route, incident, entry)
        self.seen[(route, incident)] = stored
        return stored

    def take_over(self, route: RouteKey, incident: IncidentRef, entry: ThreadEntry) -> None:
        self.inner.take_over(route, incident, entry)
        self.seen[(route, incident)] = entry

    def cascade(self, route: RouteKey, root: IncidentRef) -> str | None:
        return self.inner.cascade(route, root)

    def join_cascade(self, route: RouteKey, root: IncidentRef, thread_key: str) -> str:
        return self.inner.join_cascade(route, root, thread_key)

    def add_member(self, route: RouteKey, thread_key: str, name: str) -> list[str]:
        return self.inner.add_member(route, thread_key, name)

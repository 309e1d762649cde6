"""Threads and cascades: one page per incident, or per cascade, with no added latency.

The first alert about an incident on a route (subscriber + channel) goes out at once
and opens a thread; later alerts of that incident share its `thread_key` and do not
page unless the route's own `events` list asks for them. When the incident starts
while an upstream it depends on has an active incident, it joins that upstream's
cascade thread instead (`attached_to`, no page): a Cloudflare outage with hundreds of
dependants is one page. The first member of a cascade to reach a route leads it, so
the grouping holds even when the upstream itself is not routed to that subscriber.

The decision (`decide`) is pure; the `ThreadStore` remembers threads and cascades,
with a Redis implementation for the service and an in-memory one for replays and
tests. Both `open` and `join_cascade` are set-if-absent, so two workers racing on
one incident agree on one thread and one page.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Protocol

import redis

from notifier.models import AlertKind
from notifier.store.batch import text

RouteKey = tuple[str, str]  # (subscriber, channel)
IncidentRef = tuple[str, str]  # (provider, incident id)
THREAD_TTL_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True, slots=True)
class ThreadEntry:
    """What a route remembers about one incident."""

    thread_key: str  # the thread its alerts go to (a cascade's, when attached)
    opened_by: str  # dedup_key of the alert that opened it (re-planning it stays "first")
    paged: bool  # the opening alert paged
    attached_to: str | None = None  # the cascade thread it joined, if not its own
    shown_update: str = ""  # key of the update the opening alert already showed


@dataclass(frozen=True, slots=True)
class Decision:
    thread_key: str
    page: bool
    attached_to: str | None
    opens: bool  # this alert is the incident's first on the route


def thread_key_for(route: RouteKey, incident: IncidentRef) -> str:
    return f"{route[0]}/{route[1]}/{incident[0]}/{incident[1]}"


PAGING_FIRST = frozenset({AlertKind.NEW, AlertKind.UPDATE, AlertKind.REOPENED})


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


class ThreadStore(Protocol):
    """Per-route memory of incident threads and cascades."""

    def get(self, route: RouteKey, incident: IncidentRef) -> ThreadEntry | None: ...

    def get_many(
        self, routes: Sequence[RouteKey], incident: IncidentRef
    ) -> dict[RouteKey, ThreadEntry | None]:
        """`get` for many routes of one incident at once."""
        ...

    def open(self, route: RouteKey, incident: IncidentRef, entry: ThreadEntry) -> ThreadEntry:
        """Store `entry` unless one exists; return the stored one."""
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


class InMemoryThreadStore:
    """For replays and tests: the same semantics as Redis, in a dict."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: dict[tuple[RouteKey, IncidentRef], ThreadEntry] = {}
        self._cascades: dict[tuple[RouteKey, IncidentRef], str] = {}
        self._members: dict[tuple[RouteKey, str], list[str]] = {}

    def get(self, route: RouteKey, incident: IncidentRef) -> ThreadEntry | None:
        return self._threads.get((route, incident))

    def get_many(
        self, routes: Sequence[RouteKey], incident: IncidentRef
    ) -> dict[RouteKey, ThreadEntry | None]:
        return {r: self._threads.get((r, incident)) for r in routes}

    def open(self, route: RouteKey, incident: IncidentRef, entry: ThreadEntry) -> ThreadEntry:
        with self._lock:
            return self._threads.setdefault((route, incident), entry)

    def cascade(self, route: RouteKey, root: IncidentRef) -> str | None:
        return self._cascades.get((route, root))

    def join_cascade(self, route: RouteKey, root: IncidentRef, thread_key: str) -> str:
        with self._lock:
            return self._cascades.setdefault((route, root), thread_key)

    def add_member(self, route: RouteKey, thread_key: str, name: str) -> list[str]:
        with self._lock:
            members = self._members.setdefault((route, thread_key), [])
            if name not in members:
                members.append(name)
            return list(members)


_ADD_MEMBER = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then redis.call('RPUSH', KEYS[2], ARGV[1]) end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return redis.call('LRANGE', KEYS[2], 0, -1)
"""


class RedisThreadStore:
    """Keys: `<prefix>:thread:<route>:<incident>` (JSON entry), `<prefix>:cascade:<route>:<root>`
    (thread key), `<prefix>:cascade-members:<thread>` (+`:set`); all expire after 30 days."""

    def __init__(self, client: redis.Redis, prefix: str, ttl: int = THREAD_TTL_SECONDS) -> None:
        self._r = client
        self._prefix = prefix
        self._ttl = ttl
        self._add_member = client.register_script(_ADD_MEMBER)

    def _key(self, kind: str, route: RouteKey, ref: IncidentRef) -> str:
        return f"{self._prefix}:{kind}:{route[0]}:{route[1]}:{ref[0]}:{ref[1]}"

    def get(self, route: RouteKey, incident: IncidentRef) -> ThreadEntry | None:
        raw = self._r.get(self._key("thread", route, incident))
        return None if raw is None else ThreadEntry(**json.loads(raw))

    def get_many(
        self, routes: Sequence[RouteKey], incident: IncidentRef, chunk: int = 500
    ) -> dict[RouteKey, ThreadEntry | None]:
        """One MGET per `chunk` routes instead of a GET each."""
        found: dict[RouteKey, ThreadEntry | None] = {}
        for i in range(0, len(routes), chunk):
            part = routes[i : i + chunk]
            raws = self._r.mget([self._key("thread", r, incident) for r in part])
            for route, raw in zip(part, raws, strict=True):
                found[route] = None if raw is None else ThreadEntry(**json.loads(raw))
        return found

    def open(self, route: RouteKey, incident: IncidentRef, entry: ThreadEntry) -> ThreadEntry:
        key = self._key("thread", route, incident)
        if self._r.set(key, json.dumps(asdict(entry)), nx=True, ex=self._ttl):
            return entry
        stored = self.get(route, incident)
        return stored if stored is not None else entry

    def cascade(self, route: RouteKey, root: IncidentRef) -> str | None:
        raw = self._r.get(self._key("cascade", route, root))
        return text(raw)

    def join_cascade(self, route: RouteKey, root: IncidentRef, thread_key: str) -> str:
        key = self._key("cascade", route, root)
        pipe = self._r.pipeline(transaction=False)
        pipe.set(key, thread_key, nx=True, ex=self._ttl)
        pipe.get(key)
        _, raw = pipe.execute()
        return thread_key if raw is None else text(raw)

    def add_member(self, route: RouteKey, thread_key: str, name: str) -> list[str]:
        base = f"{self._prefix}:cascade-members:{thread_key}"
        raw = self._add_member(keys=[f"{base}:set", base], args=[name, self._ttl])
        return [text(x) for x in raw]

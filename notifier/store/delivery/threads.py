"""Threads, in one store: which alert opened each incident's thread on a route, the
cascades routes joined, and the vendor reference each thread has on each target.

A route is (subscriber, channel); an incident is (provider, incident id). The planner
writes the registry (`open`, `take_over`, `join_cascade`, `add_member`) and delivery reads it
(`get`, to wait for a thread's opener) and keeps the per-target refs (`ref`,
`set_ref`: the Slack parent `channel/ts`, the first email's Message-ID). Both `open`
and `join_cascade` are set-if-absent, so two workers racing on one incident agree on
one thread and one page.

Redis keys (all expire 30 days after their last write; the names and layouts are the
ones earlier releases wrote, so a running deployment's threads stay readable):

- `<prefix>:thread:<subscriber>:<channel>:<provider>:<incident>`: string, the JSON
  of a `ThreadEntry`;
- `<prefix>:cascade:<subscriber>:<channel>:<root provider>:<root incident>`: string,
  the thread key of the cascade rooted at that incident;
- `<prefix>:cascade-members:<thread key>`: list of provider display names in
  first-come order, with `<...>:set` beside it to keep them unique;
- `<prefix>:threadref:<thread key>`: hash, field `<channel>:<target id>` -> the
  vendor's reference to the thread's parent message;
- `<prefix>:before-loss:<provider>:<incident>`: "1", an incident that was open when
  Redis lost its data (written by the silent re-baseline, `known_before_loss`). A route
  with no entry for it reads a stand-in entry (`LOST_OPENER`, not paged): its next update
  is a follow-up that pages nobody, not the incident's first alert. The vendor's thread
  reference was lost with the data, so that update opens the incident's new thread.

`InMemoryThreadStore` has the same semantics in dicts, for replays and tests.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

import redis

from notifier.store.conn.batch import Batch, Later, Pipe, text, writing
from notifier.store.conn.durable import confirmed, execute_confirmed

# The opener of a stand-in entry: an incident alerted before Redis lost its data.
LOST_OPENER = "(before Redis lost its data)"
RouteKey = tuple[str, str]  # (subscriber, channel)
# Each route's entry for one incident, and the cascade thread registered for it there.
Prefetched = tuple[dict[RouteKey, "ThreadEntry | None"], dict[RouteKey, str | None]]
IncidentRef = tuple[str, str]  # (provider, incident id)
RefKey = tuple[str, str, str]  # (thread key, channel, target id): a parent's reference
THREAD_TTL_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True, slots=True)
class ThreadEntry:
    """What a route remembers about one incident."""

    thread_key: str  # the thread its alerts go to (a cascade's, when attached)
    opened_by: str  # dedup_key of the alert that opened it (re-planning it stays "first")
    paged: bool  # the opening alert paged
    attached_to: str | None = None  # the cascade thread it joined, if not its own
    shown_update: str = ""  # key of the update the opening alert already showed
    opened_at: str = ""  # ISO time the thread was planned ("" in records from before it)
    # ISO time the opening alert is held until (quiet hours); "" when it went at once.
    # An escalation planned while it is still held takes the opening over (see plan).
    held_until: str = ""


def entry_json(entry: ThreadEntry) -> str:
    """The stored form: fields at their defaults are left out (the reader fills them in),
    which halves a key kept 30 days per route and incident."""
    # Read field by field (`asdict` deep-copies: a tenth of a fan-out's planning CPU).
    d = {k: v for k in _FIELDS if (v := getattr(entry, k)) not in (None, "") or k in _REQUIRED}
    return json.dumps(d, separators=(",", ":"))


_REQUIRED = ("thread_key", "opened_by", "paged")
_FIELDS = tuple(f.name for f in fields(ThreadEntry))


class InMemoryThreadStore:
    """For replays and tests: the same semantics as Redis, in dicts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: dict[tuple[RouteKey, IncidentRef], ThreadEntry] = {}
        self._cascades: dict[tuple[RouteKey, IncidentRef], str] = {}
        self._members: dict[tuple[RouteKey, str], list[str]] = {}
        self._refs: dict[tuple[str, str, str], str] = {}

    def get(self, route: RouteKey, incident: IncidentRef) -> ThreadEntry | None:
        return self._threads.get((route, incident))

    def get_many(
        self, routes: Sequence[RouteKey], incident: IncidentRef
    ) -> dict[RouteKey, ThreadEntry | None]:
        return {r: self._threads.get((r, incident)) for r in routes}

    def open(self, route: RouteKey, incident: IncidentRef, entry: ThreadEntry) -> ThreadEntry:
        with self._lock:
            return self._threads.setdefault((route, incident), entry)

    def take_over(self, route: RouteKey, incident: IncidentRef, entry: ThreadEntry) -> None:
        with self._lock:
            self._threads[(route, incident)] = entry

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

    def ref(self, thread_key: str, channel: str, target_id: str) -> str | None:
        return self._refs.get((thread_key, channel, target_id))

    def refs_into(
        self, batch: Batch, refs: Sequence[RefKey]
    ) -> Callable[[], dict[RefKey, str | None]]:
        return lambda: {k: self._refs.get(k) for k in refs}

    def set_ref(
        self, thread_key: str, channel: str, target_id: str, ref: str, pipe: Pipe | None = None
    ) -> None:
        self._refs[(thread_key, channel, target_id)] = ref


_ADD_MEMBER = """
if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then redis.call('RPUSH', KEYS[2], ARGV[1]) end
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return redis.call('LRANGE', KEYS[2], 0, -1)
"""


class RedisThreadStore:
    """The service's thread store; the keys are listed in the module docstring."""

    def __init__(self, client: redis.Redis, prefix: str, ttl: int = THREAD_TTL_SECONDS) -> None:
        self._r = client
        self._prefix = prefix
        self._ttl = ttl
        self._add_member = client.register_script(_ADD_MEMBER)

    @property
    def client(self) -> redis.Redis:
        return self._r

    def _key(self, kind: str, route: RouteKey, ref: IncidentRef) -> str:
        return f"{self._prefix}:{kind}:{route[0]}:{route[1]}:{ref[0]}:{ref[1]}"

    def _before_loss_key(self, ref: IncidentRef) -> str:
        return f"{self._prefix}:before-loss:{ref[0]}:{ref[1]}"

    def known_before_loss(self, provider: str, incident_ids: Sequence[str]) -> None:
        """These incidents were open when Redis lost its data: their routes heard of
        them already (see `LOST_OPENER`)."""
        if not incident_ids:
            return
        pipe = self._r.pipeline(transaction=False)
        for iid in incident_ids:
            pipe.set(self._before_loss_key((provider, iid)), "1", ex=self._ttl)
        pipe.execute()

    def get(self, route: RouteKey, incident: IncidentRef) -> ThreadEntry | None:
        """The route's entry for the incident (None: nothing planned there yet)."""
        raw, lost = self._r.mget(
            [self._key("thread", route, incident), self._before_loss_key(incident)]
        )
        return _entry(raw, route, incident, lost is not None)

    def get_many(
        self, routes: Sequence[RouteKey], incident: IncidentRef, chunk: int = 500
    ) -> dict[RouteKey, ThreadEntry | None]:
        """`get` for many routes of one incident: one MGET per `chunk` routes."""
        found: dict[RouteKey, ThreadEntry | None] = {}
        for i in range(0, len(routes), chunk):
            part = routes[i : i + chunk]
            keys = [self._key("thread", r, incident) for r in part]
            *raws, lost = self._r.mget([*keys, self._before_loss_key(incident)])
            for route, raw in zip(part, raws, strict=True):
                found[route] = _entry(raw, route, incident, lost is not None)
        return found

    def open(self, route: RouteKey, incident: IncidentRef, entry: ThreadEntry) -> ThreadEntry:
        """Store `entry` unless one exists; return the stored one."""
        key = self._key("thread", route, incident)
        value = entry_json(entry)
        # Confirmed by a replica: a thread entry lost in a failover is a new parent
        # message and a second page for the incident's next update.
        (created,) = confirmed(
            self._r, "a thread entry", lambda p: p.set(key, value, nx=True, ex=self._ttl)
        )
        if created:
            return entry
        stored = self.get(route, incident)
        return stored if stored is not None else entry

    def take_over(self, route: RouteKey, incident: IncidentRef, entry: ThreadEntry) -> None:
        """Replace the route's entry: an escalation took the opening over from an alert
        held for quiet hours. Planning runs under the provider's lock, so no race."""
        key, value = self._key("thread", route, incident), entry_json(entry)
        confirmed(self._r, "a thread entry", lambda p: p.set(key, value, ex=self._ttl))

    def cascade(self, route: RouteKey, root: IncidentRef) -> str | None:
        """The thread of the cascade rooted at `root`, if any."""
        raw = self._r.get(self._key("cascade", route, root))
        return text(raw)

    def join_cascade(self, route: RouteKey, root: IncidentRef, thread_key: str) -> str:
        """Make `thread_key` the cascade's thread unless one exists; return the thread."""
        key = self._key("cascade", route, root)
        pipe = self._r.pipeline(transaction=False)
        pipe.set(key, thread_key, nx=True, ex=self._ttl)
        pipe.get(key)
        _, raw = execute_confirmed(self._r, pipe, "a cascade's thread")
        return thread_key if raw is None else text(raw)

    def add_member(self, route: RouteKey, thread_key: str, name: str) -> list[str]:
        """Record a provider name in a cascade thread; return all, first-come order.

        The key has no route in it (as before): thread keys start with the route."""
        base = f"{self._prefix}:cascade-members:{thread_key}"
        raw = self._add_member(keys=[f"{base}:set", base], args=[name, self._ttl])
        return [text(x) for x in raw]

    # What one chunk of a fan-out batches (`notifier.store.delivery.deferred`): one read
    # of every route's entry and cascade registration; its writes go by these keys.

    def prefetch(self, routes: Sequence[RouteKey], incident: IncidentRef) -> Prefetched:
        """Each route's entry for `incident` and the cascade thread registered for it
        there, in one round trip."""
        if not routes:
            return {}, {}
        batch = Batch(self._r)
        later = self.prefetch_into(batch, routes, incident)
        batch.execute()
        return later.get()

    def prefetch_into(
        self, batch: Batch, routes: Sequence[RouteKey], incident: IncidentRef
    ) -> Later[Prefetched]:
        """`prefetch`, queued on the caller's batch (a planner's, with its lock)."""
        first = len(batch.pipe)
        for i in range(0, len(routes), 500):
            part = routes[i : i + 500]
            batch.pipe.mget([self._key("thread", r, incident) for r in part])
            batch.pipe.mget([self._key("cascade", r, incident) for r in part])
        # An incident open when Redis lost its data reads as heard of (`LOST_OPENER`).
        batch.pipe.exists(self._before_loss_key(incident))
        end = len(batch.pipe)
        return batch.later(lambda _: self._prefetched(
            [batch.result(i) for i in range(first, end)], routes, incident))  # fmt: skip

    def _prefetched(
        self, replies: list[Any], routes: Sequence[RouteKey], incident: IncidentRef
    ) -> Prefetched:
        lost = bool(replies[-1])
        entries: dict[RouteKey, ThreadEntry | None] = {}
        cascades: dict[RouteKey, str | None] = {}
        for n, i in enumerate(range(0, len(routes), 500)):
            part = routes[i : i + 500]
            for route, raw, cas in zip(part, replies[2 * n], replies[2 * n + 1], strict=True):
                entries[route] = _entry(raw, route, incident, lost)
                cascades[route] = text(cas) if cas is not None else None
        return entries, cascades

    def route_keys(self, route: RouteKey, incident: IncidentRef) -> tuple[str, str]:
        """The keys of the route's entry for `incident` and of its cascade registration."""
        return self._key("thread", route, incident), self._key("cascade", route, incident)

    def member_keys(self, thread_key: str) -> tuple[str, str]:
        """The keys of a cascade thread's members: the set and the first-come list."""
        base = f"{self._prefix}:cascade-members:{thread_key}"
        return f"{base}:set", base

    @property
    def ttl(self) -> int:
        return self._ttl

    def _ref_key(self, thread_key: str) -> str:
        return f"{self._prefix}:threadref:{thread_key}"

    def ref(self, thread_key: str, channel: str, target_id: str) -> str | None:
        """The vendor's reference to the thread's parent message on one target, if sent."""
        value = self._r.hget(self._ref_key(thread_key), f"{channel}:{target_id}")
        return text(value) or None

    def refs_into(
        self, batch: Batch, refs: Sequence[RefKey]
    ) -> Callable[[], dict[RefKey, str | None]]:
        """`ref` of each (thread key, channel, target id), queued on the caller's batch;
        call the answer once the batch has run."""
        read = []
        for thread_key, channel, target_id in refs:
            batch.pipe.hget(self._ref_key(thread_key), f"{channel}:{target_id}")
            read.append(batch.later(lambda raw: text(raw) or None))
        return lambda: {k: r.get() for k, r in zip(refs, read, strict=True)}

    def set_ref(
        self, thread_key: str, channel: str, target_id: str, ref: str, pipe: Pipe | None = None
    ) -> None:
        """Remember the parent's reference; on `pipe` when the caller batches its writes."""
        key = self._ref_key(thread_key)
        with writing(self._r, pipe) as pipe:
            pipe.hset(key, f"{channel}:{target_id}", ref)
            pipe.expire(key, self._ttl)


def _entry(
    raw: bytes | str | None, route: RouteKey, incident: IncidentRef, before_loss: bool
) -> ThreadEntry | None:
    if raw is not None:
        return ThreadEntry(**json.loads(raw))
    if not before_loss:
        return None
    # The route's own thread key (`route.grouping.thread_key_for`: store cannot import it).
    own = f"{route[0]}/{route[1]}/{incident[0]}/{incident[1]}"
    return ThreadEntry(own, LOST_OPENER, paged=False)


__all__ = [
    "LOST_OPENER",
    "THREAD_TTL_SECONDS",
    "InMemoryThreadStore",
    "IncidentRef",
    "RedisThreadStore",
    "RouteKey",
    "ThreadEntry",
    "entry_json",
]

"""One chunk of a fan-out in two Redis round trips: a read, then every write at once.

Planning a route used to cost four round trips (its claim, its cascade membership, its
thread, its cascade registration). A chunk of a few hundred routes of one event now
reads every route's thread entry and cascade registration in one prefetch
(`RedisThreadStore.prefetch`), decides locally, and sends the openings' writes and all
its claims in one pipeline (`flush`).

Why deciding locally is safe: the events of one provider are planned in order
(`notifier.pipeline.plan.fanout`), and each route belongs to one chunk, so no other planner
opens this route's thread for this incident meanwhile. The same chunk run twice at once
(a re-sent task) writes the same entries and claims the same dedup keys, so one claim
wins and the other finds it (`claimed` is False). Writes that concern other incidents'
cascades (a cascade member's thread, an upstream's registration) go straight to the
store, as before: they are rare and their answers decide the thread.

At the flush each route's writes go as one script call (`_ROUTE`: its cascade
registration, its thread entry, its cascade membership and its claim, in that order),
so the Redis client packs and parses one command a route instead of four.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from notifier.models import Alert
from notifier.store.conn.durable import execute_confirmed
from notifier.store.delivery.alerts import AlertStore, claim_lua
from notifier.store.delivery.threads import (
    IncidentRef,
    Prefetched,
    RedisThreadStore,
    RouteKey,
    ThreadEntry,
    entry_json,
)

# KEYS: thread entry, cascade registration, members set, members list, then the claim's 4.
# ARGV: TTL, cascade thread, entry JSON, member name ('' = none of it), then the claim's 4
# ('' as its first: no claim, -1).
_ROUTE = """
local ttl = ARGV[1]
if ARGV[2] ~= '' then redis.call('SET', KEYS[2], ARGV[2], 'NX', 'EX', ttl) end
if ARGV[3] ~= '' then redis.call('SET', KEYS[1], ARGV[3], 'NX', 'EX', ttl) end
if ARGV[4] ~= '' then
  if redis.call('SADD', KEYS[3], ARGV[4]) == 1 then redis.call('RPUSH', KEYS[4], ARGV[4]) end
  redis.call('EXPIRE', KEYS[3], ttl)
  redis.call('EXPIRE', KEYS[4], ttl)
end
if ARGV[5] == '' then return -1 end
""" + claim_lua(5, 5)


@dataclass
class _Writes:
    """One route's writes, waiting for the flush."""

    cascade: str = ""  # the cascade thread to register for the event's incident
    entry: str = ""  # the thread entry's JSON
    member: str = ""  # the provider name joining the route's own thread
    claim: Alert | None = None


class DeferredThreads:
    """A thread registry for one event's chunk: reads from one prefetch, openings queued."""

    def __init__(self, store: RedisThreadStore, alerts: AlertStore, incident: IncidentRef) -> None:
        self.store, self.alerts, self.incident = store, alerts, incident
        self.entries: dict[RouteKey, ThreadEntry | None] = {}
        self.cascades: dict[RouteKey, str | None] = {}
        self._writes: dict[RouteKey, _Writes] = {}
        self._script = store.client.register_script(_ROUTE)

    def seed(self, found: Prefetched) -> None:
        """Entries read ahead for this incident (`RedisThreadStore.prefetch_into`, in the
        planner's lock round trip): `get_many` then reads none of them again."""
        entries, cascades = found
        self.entries.update(entries)
        self.cascades.update(cascades)

    def _of(self, route: RouteKey) -> _Writes:
        return self._writes.setdefault(route, _Writes())

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
            self._of(route).entry = entry_json(entry)
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
        self._of(route).cascade = thread_key
        self.cascades[route] = thread_key
        return thread_key

    def add_member(self, route: RouteKey, thread_key: str, name: str) -> list[str]:
        own = f"{route[0]}/{route[1]}/{self.incident[0]}/{self.incident[1]}"
        if thread_key != own:  # a cascade's thread: its members name the alert's group
            return self.store.add_member(route, thread_key, name)
        # The route's own thread: its member list only matters once others join it.
        self._of(route).member = name
        return [name]

    def claim(self, alert: Alert) -> None:
        """Queue the alert's claim; `flush` says whether it won."""
        self._of((alert.subscriber, alert.channel)).claim = alert

    def flush(self) -> list[tuple[Alert, bool]]:
        """Send every route's writes and claim in one round trip: each alert, and whether
        this call created its record (False: claimed before)."""
        pipe = self.store.client.pipeline(transaction=False)
        claimed: list[Alert] = []
        # The event's own record exists (the poll saved it): each claim names it, and the
        # copy with the event in it (kilobytes a route) is neither built nor sent.
        events = {w.claim.event.event_id for w in self._writes.values() if w.claim}
        whole = not all(self.alerts.event_stored(e) for e in events)
        for route, w in self._writes.items():
            thread_key = f"{route[0]}/{route[1]}/{self.incident[0]}/{self.incident[1]}"
            keys = [*self.store.route_keys(route, self.incident),
                    *self.store.member_keys(thread_key)]  # fmt: skip
            args: list[str | int] = [self.store.ttl, w.cascade, w.entry, w.member]
            if w.claim is None:
                keys += ["", "", "", "", ""]
                args += ["", "", "", "", ""]
            else:
                more_keys, more_args = self.alerts.claim_parts(w.claim, whole=whole)
                keys, args = keys + more_keys, args + more_args
                claimed.append(w.claim)
            # The first by EVAL, which also loads the script: the rest by its hash. A
            # registered script would ask SCRIPT EXISTS first, a round trip of its own.
            if len(pipe) == 0:
                pipe.eval(_ROUTE, len(keys), *keys, *args)
            else:
                pipe.evalsha(self._script.sha, len(keys), *keys, *args)
        # Confirmed by a replica: a claim lost in a failover is a duplicate alert.
        replies = execute_confirmed(self.store.client, pipe, "a chunk's claims")
        self._writes = {}
        won = [r for r in replies if r != -1]
        return [(a, r == 1) for a, r in zip(claimed, won, strict=True)]

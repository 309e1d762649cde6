"""Alert records that reference their event instead of copying it.

An alert record used to embed a full copy of its change event (about 3.4 KB): 34 MB
for one event sent to 10,000 subscribers. Now the record holds the alert's own fields
(its route, thread, page, hold, annotations) and `event_id`; the event is the one
record the poll stored (`<prefix>:event:<event_id>`, `notifier.store.feeds.events`,
written once with SET NX, so it never changes). Loading an alert reads the event
from a small per-process cache: a fan-out's alerts all share one event, read once.

The claim keeps the whole copy when the event has no record of its own (a test
alert, say): `bodies` gives both shapes and the claim script picks. Records of both
shapes are read: those written by the release before this one embed `event`.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import fields
from typing import Any

import redis

from notifier.models import Alert, ChangeEvent, alert_from_dict, event_from_dict, to_jsonable

CACHED_EVENTS = 256
_DEFAULTS: tuple[object, ...] = (None, (), False)
_OWN_FIELDS = tuple(f.name for f in fields(Alert) if f.name != "event")  # read once


class EventRefs:
    def __init__(self, client: redis.Redis, prefix: str, cached: int = CACHED_EVENTS) -> None:
        self._r, self._prefix, self._cached = client, prefix, cached
        self._lock = threading.Lock()
        self._events: OrderedDict[str, ChangeEvent] = OrderedDict()
        self._bodies: OrderedDict[str, str] = OrderedDict()  # event id -> its JSON
        self._stored: OrderedDict[str, bool] = OrderedDict()  # event ids with a record

    def key(self, event_id: str) -> str:
        """The event's own record (the key `EventStore.event_key` names)."""
        return f"{self._prefix}:event:{event_id}"

    def bodies(self, alert: Alert, whole: bool = True) -> tuple[str, str]:
        """The alert's record referencing its event, and the same with the event in it
        ("" without `whole`)."""
        # Fields at their defaults (None, empty, False) are left out: the reader fills them.
        own = {name: to_jsonable(v) for name in _OWN_FIELDS
               if (v := getattr(alert, name)) not in _DEFAULTS}  # fmt: skip
        own["event_id"] = alert.event.event_id
        ref = json.dumps(own, separators=(",", ":"))
        if not whole:
            return ref, ""
        return ref, f'{ref[:-1]},"event":{self._event_json(alert.event)}}}'

    def saved(self, events: list[ChangeEvent]) -> None:
        """This process has just stored these records (each as a read gives it): the
        claims that name them and the deliveries that load them need not ask Redis."""
        with self._lock:
            for event in events:
                self._remember(self._stored, event.event_id, True)
                self._remember(self._events, event.event_id, event)

    def stored(self, event_id: str) -> bool:
        """The event has its own record; a yes is remembered (records are never rewritten
        and outlive the work that asks)."""
        with self._lock:
            if event_id in self._stored:
                return True
        if not self._r.exists(self.key(event_id)):
            return False
        with self._lock:
            self._remember(self._stored, event_id, True)
        return True

    def alert(self, raw: bytes | str) -> Alert | None:
        """An alert record of either shape; None when its event's record is gone."""
        d: dict[str, Any] = json.loads(raw)
        if "event" in d:
            return alert_from_dict(d)
        event = self._event(str(d["event_id"]))
        return None if event is None else alert_from_dict(d, event)

    def _event_json(self, event: ChangeEvent) -> str:
        with self._lock:
            found = self._bodies.get(event.event_id)
        if found is None:
            found = json.dumps(to_jsonable(event), separators=(",", ":"))
            with self._lock:
                self._remember(self._bodies, event.event_id, found)
        return found

    def event(self, event_id: str) -> ChangeEvent | None:
        """The event's own record (None: never stored, or expired)."""
        return self._event(event_id)

    def _event(self, event_id: str) -> ChangeEvent | None:
        with self._lock:
            found = self._events.get(event_id)
        if found is not None:
            return found
        raw = self._r.get(self.key(event_id))
        if raw is None:
            return None
        event = event_from_dict(json.loads(raw))
        with self._lock:
            self._remember(self._events, event_id, event)
        return event

    def _remember(self, cache: OrderedDict[str, Any], key: str, value: Any) -> None:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > self._cached:
            cache.popitem(last=False)

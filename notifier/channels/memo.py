"""Render once per (event, channel kind), reused for every subscriber whose alert has
the same template inputs.

A fan-out of one event to 10,000 Slack channels rendered the same blocks 10,000
times. What a message shows depends on the alert's event (immutable once stored, so
its id stands for it), its kind, page, group, annotations and what it carries, and on
the channel's `Presentation`; never on the subscriber, the route or the dedup key.
Those inputs are the key; a small cache per channel object keeps the last few.

What is cached is shared: callers build their own message around it (`{**cached,
...}`) and never change it in place.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from notifier.models import Alert

T = TypeVar("T")
KEPT = 64  # renderings per channel object: a few events' worth of kinds


def template_inputs(alert: Alert) -> tuple[Hashable, ...]:
    """Everything of an alert that its rendering reads."""
    return (
        alert.event.event_id, alert.kind, alert.page, alert.attached_to, alert.annotations,
        alert.cascade, alert.group_paged_at, alert.folded,
        tuple(e.event_id for e in alert.caught_up), tuple(e.event_id for e in alert.carried),
    )  # fmt: skip


class RenderMemo:
    def __init__(self, kept: int = KEPT) -> None:
        self._kept = kept
        self._lock = threading.Lock()
        self._done: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
        self.renders = 0  # how many times `build` ran (for tests and benchmarks)

    def get(self, what: str, alert: Alert, build: Callable[[], T], *extra: Hashable) -> T:
        """`build()`'s result for `what` (the message part) of alerts like `alert`."""
        key = (what, template_inputs(alert), extra)
        with self._lock:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
        made = build()
        with self._lock:
            self.renders += 1
            self._done[key] = made
            while len(self._done) > self._kept:
                self._done.popitem(last=False)
        return made

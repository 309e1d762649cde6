"""Webhook pushes merged into what the diff knows, then handed on like a poll's events.

The web endpoint only checks and queues a delivery (`notifier.store.feeds.pushes`); the
pipeline's tick calls `ingest`, which for each queued delivery, oldest first:

- an incident: takes the provider's poll lease, merges the pushed incident
  (`notifier.diff.partial.merge`: nothing else changes, absence means nothing),
  saves and hands on its events *before* storing the state (as a poll does), and
  asks for a poll of the provider `RECONCILE_AFTER` later, to reconcile component
  state. The update keys the diff remembers make a later poll that sees the same
  update post nothing (and a push of an update a poll saw first, likewise).
- a component change: asks for that poll right away; the diff works on incidents,
  and the poll reads the components as the page shows them.

A delivery for a provider whose lease a poll holds waits for the next tick, with
every delivery behind it (their order matters).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from notifier.diff.facts import PollFacts
from notifier.diff.partial import merge
from notifier.feeds import webhook
from notifier.feeds.errors import FeedError
from notifier.models import ChangeEvent
from notifier.store.feeds.cadence import Cadence, poll_member
from notifier.store.feeds.providers import ProviderStore
from notifier.store.feeds.pushes import PushQueue

log = logging.getLogger(__name__)

RECONCILE_AFTER = timedelta(seconds=2)
BATCH = 100  # deliveries per tick at most


@dataclass(frozen=True, slots=True)
class Ingested:
    merged: int = 0  # deliveries done with (merged, or dropped as unusable)
    events: int = 0
    waiting: int = 0  # left for the next tick (a poll held the lease)


def ingest(
    queue: PushQueue,
    state: ProviderStore,
    cadence: Cadence,
    names: dict[str, str],
    enqueue: Callable[[Sequence[ChangeEvent]], None],
    now: datetime,
) -> Ingested:
    """Merge the queued deliveries of the providers in `names` (id -> display name)."""
    with queue.reading() as mine:
        if not mine:
            return Ingested()
        pending = queue.peek(BATCH)
        done = events = 0
        for item in pending:
            outcome = _one(item.provider, item.body, state, cadence, names, enqueue, now)
            if outcome is None:
                break  # a poll holds the lease: this one and those behind it wait
            done += 1
            events += outcome
        queue.drop(done)
        return Ingested(done, events, len(pending) - done)


def _one(
    provider: str,
    body: bytes,
    state: ProviderStore,
    cadence: Cadence,
    names: dict[str, str],
    enqueue: Callable[[Sequence[ChangeEvent]], None],
    now: datetime,
) -> int | None:
    """Events handed on for one delivery; None when it must wait for the lease."""
    if provider not in names:
        log.warning("dropped a queued webhook for a provider no longer watched",
                    extra={"provider": provider})  # fmt: skip
        return 0
    try:
        push = webhook.parse(body, provider)
    except FeedError as exc:  # checked when it arrived; a changed parser may still refuse
        log.warning("dropped a queued webhook: %s", exc, extra={"provider": provider})
        return 0
    if push.incident is None:
        cadence.sooner({poll_member(provider): now})
        if (c := push.component) is not None:
            log.info("pushed: component %s %s -> %s; polling now", c.component, c.old_status,
                     c.new_status, extra={"provider": provider})  # fmt: skip
        return 0
    lease = state.begin(provider)
    if lease is None:
        return None
    try:
        result = merge(lease.state(), push.document(), now, PollFacts(name=names[provider]))
        messages = result.messages  # a burst of updates is one message
        if messages:
            enqueue(messages)
            log.info("pushed: %d change(s) to incident %s", len(messages),
                     messages[0].incident_id[:60], extra={"provider": provider})  # fmt: skip
        if not state.merge(lease, result.state, now):
            log.warning("poll lease lost before a push was stored", extra={"provider": provider})
    except BaseException:
        state.release(lease)
        raise
    cadence.sooner({poll_member(provider): now + RECONCILE_AFTER})
    return len(messages)


__all__ = ["BATCH", "RECONCILE_AFTER", "Ingested", "ingest"]

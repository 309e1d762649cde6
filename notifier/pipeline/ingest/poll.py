"""One poll of one provider: lease, conditional fetch, parse, look up, diff, enqueue,
commit.

The look-up step is this stage's I/O for the diff: when an open incident has left an
active list, the provider's history (`notifier.feeds.history`) is fetched once for
all such incidents, and the diff decides with what it says. An absence the next poll
must confirm makes that poll read the document in full (no conditional GET). A
resolution the diff could only make on absence, for a feed with a history, is looked
up again later (`retry_final`, the due-set entries of `notifier.pipeline.ingest.finals`).

`poll_provider` never raises for a broken feed: fetch and parse failures become a
`failed` outcome and count toward feed health. It raises only when handing
events on (`enqueue`) or Redis fails; then nothing was committed, the lease is
released, and a retry re-emits the same event ids (downstream dedup drops them).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from notifier.diff.engine import diff
from notifier.diff.facts import PollFacts
from notifier.diff.health import DEFAULT_THRESHOLD, record_failure, record_success
from notifier.feeds import registry
from notifier.feeds.discover.components import listed_components
from notifier.feeds.errors import Cause, FeedError
from notifier.feeds.history import history_url, look_up
from notifier.models import ChangeEvent, DocumentKind, FeedDocument
from notifier.pipeline.ingest.flood import DEFAULT_LIMIT, contain
from notifier.store.feeds.providers import Lease, ProviderStore, Validators
from notifier.store.feeds.snapshot import ProviderState
from notifier.text import one_line

log = logging.getLogger(__name__)

Enqueue = Callable[[Sequence[ChangeEvent]], None]
# (provider id, incident ids): look for these incidents' final updates again later
RetryFinal = Callable[[str, Sequence[str]], None]
# Called when the generation marker is missing; True: Redis lost its data, so a first
# poll is a silent baseline (see notifier.pipeline.ingest.data_loss).
OnUnmarked = Callable[[], bool]
# Called once a silent baseline is committed.
Rebaselined = Callable[[str], None]
# told the component names each freshly parsed document lists
OnComponents = Callable[[tuple[str, ...]], None]
# (provider, incidents open at a silent re-baseline): they were alerted before the loss.
KnownBeforeLoss = Callable[[str, list[str]], None]


class ProviderLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def format(self) -> str: ...


class FetchResultLike(Protocol):
    @property
    def status(self) -> int: ...
    @property
    def body(self) -> bytes | None: ...
    @property
    def etag(self) -> str | None: ...
    @property
    def last_modified(self) -> str | None: ...
    @property
    def body_hash(self) -> str | None: ...


class FetcherLike(Protocol):
    def fetch(
        self, url: str, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResultLike: ...


class Outcome(StrEnum):
    NOT_MODIFIED = "not_modified"  # 304
    UNCHANGED = "unchanged"  # 200 with the body we already diffed
    CHANGED = "changed"  # parsed and diffed (possibly zero events)
    FAILED = "failed"  # fetch or parse failed; health recorded
    SKIPPED_LOCKED = "skipped_locked"  # another poll of this provider holds the lease


@dataclass(frozen=True, slots=True)
class PollOutcome:
    outcome: Outcome
    events: int = 0  # events handed to enqueue (health events included)
    event_ids: tuple[str, ...] = ()
    error: str | None = None  # one safe line, for failed
    error_type: str | None = None  # exception class name, for failed
    committed: bool = True  # False: the lease was lost before the write (events still sent)
    retry_after: float | None = None  # seconds the status page asked us to wait (429)
    cause: str | None = None  # the failure's cause code (feeds.errors), for failed


def poll_provider(
    provider: ProviderLike,
    store: ProviderStore,
    fetcher: FetcherLike,
    enqueue: Enqueue,
    now: datetime,
    failure_threshold: int = DEFAULT_THRESHOLD,
    *,
    name: str = "",
    retry_final: RetryFinal | None = None,
    on_unmarked: OnUnmarked | None = None,
    rebaselined: Rebaselined | None = None,
    on_components: OnComponents | None = None,
    max_new_incidents: int = DEFAULT_LIMIT,
    known_before_loss: KnownBeforeLoss | None = None,
) -> PollOutcome:
    """Poll once. Unchanged feeds cost two Redis round trips in all (one before the GET).

    `name` is the provider's display name for notifier's own words in events;
    `retry_final` schedules later history lookups (None: none are scheduled).
    A first poll after Redis lost its data (the provider is marked for it, or
    `on_unmarked` says so) is a silent baseline: its state is stored, its incident
    events are dropped (they were alerted before the loss), `known_before_loss` is told
    its open incidents (their next updates are follow-ups), and `rebaselined` is told.
    A document adding more than `max_new_incidents` incidents is one `feed_flood`
    event (pipeline.ingest.flood); its incidents are still recorded."""
    lease = store.begin(provider.id)
    if lease is None:
        return PollOutcome(Outcome.SKIPPED_LOCKED)
    try:
        extras = _Extras(
            name,
            retry_final,
            on_unmarked,
            rebaselined,
            on_components,
            max_new_incidents,
            known_before_loss,
        )
        return _poll(provider, lease, store, fetcher, enqueue, now, failure_threshold, extras)
    except BaseException:
        store.release(lease)
        raise


@dataclass(frozen=True, slots=True)
class _Extras:
    name: str
    retry_final: RetryFinal | None
    on_unmarked: OnUnmarked | None = None
    rebaselined: Rebaselined | None = None
    on_components: OnComponents | None = None
    max_new: int = DEFAULT_LIMIT
    known_before_loss: KnownBeforeLoss | None = None


def _poll(
    provider: ProviderLike,
    lease: Lease,
    store: ProviderStore,
    fetcher: FetcherLike,
    enqueue: Enqueue,
    now: datetime,
    threshold: int,
    extras: _Extras,
) -> PollOutcome:
    try:
        v = lease.validators
        # An absence awaiting confirmation needs this poll's document even if unchanged.
        asked = Validators() if lease.recheck else v
        result = fetcher.fetch(provider.url, asked.etag, asked.last_modified)
        validators = _validators(result, v)
        fresh = result.status != 304 and (lease.recheck or validators.body_hash != v.body_hash)
        doc = _parse(result.body, provider) if fresh else None
        # Read here, with the parse: the feed stage ends before the diff begins.
        listed = listed_components(result.body or b"", doc) if doc is not None else ()
    except Exception as exc:  # any failure to read the feed is this provider's only
        return _failed(provider, lease, store, enqueue, now, threshold, exc)
    health, events = record_success(lease.health, provider.id, now)
    if lease.health.failures:
        log.info("feed answers again after %d failed poll(s)", lease.health.failures,
                 extra={"provider": provider.id})  # fmt: skip
    if doc is None:
        _hand_on(enqueue, events)
        kind = Outcome.NOT_MODIFIED if result.status == 304 else Outcome.UNCHANGED
        ok = store.finish(lease, now=now, outcome=kind, validators=validators, health=health)
        return _outcome(kind, events, ok)
    previous = lease.state()
    left = left_active(previous, doc)
    lookups = look_up(fetcher, provider.url, provider.id, left) if left else {}
    context = PollFacts(name=extras.name, last_ok=_last_ok(lease), lookups=lookups)
    result_diff = diff(previous, doc, now, context)
    silent = previous is None and _lost(lease, extras)
    if silent:
        still_open = [k for k, i in result_diff.state.incidents.items() if i.snapshot.is_active]
        opened = len(still_open)
        if extras.known_before_loss is not None:
            extras.known_before_loss(provider.id, still_open)
        log.info("baseline taken again after Redis lost its data: %d open incident(s), "
                 "not alerted again", opened, extra={"provider": provider.id})  # fmt: skip
    else:
        # One event per incident and poll (a burst of updates is one message), and a
        # flood of new incidents is one feed_flood alert.
        messages = result_diff.messages
        found = contain(messages, provider.id, extras.name, extras.max_new, now,
                        validators.body_hash or "")  # fmt: skip
        if len(found) < len(messages):
            log.warning("feed flood: %d events of new incidents in one document became one "
                        "feed_flood alert", len(messages) - len(found) + 1,
                        extra={"provider": provider.id})  # fmt: skip
        events += found
        _tell_changes(provider.id, found)
    _hand_on(enqueue, events)
    # After the hand-on: a round trip that need not stand between a change and its alert.
    if extras.on_components is not None and listed:
        extras.on_components(listed)
    unconfirmed = _awaiting_final(result_diff.events, result_diff.state)
    if unconfirmed and extras.retry_final is not None and history_url(provider.url):
        extras.retry_final(provider.id, unconfirmed)
    ok = store.commit(
        lease,
        result_diff.state,
        now=now,
        outcome=Outcome.CHANGED,
        validators=validators,
        health=health,
    )
    if not ok:
        log.warning("poll lease lost before commit", extra={"provider": provider.id})
    elif (silent or lease.rebaseline) and extras.rebaselined is not None:
        extras.rebaselined(provider.id)
    return _outcome(Outcome.CHANGED, events, ok)


def _lost(lease: Lease, extras: _Extras) -> bool:
    """Whether this first poll follows a loss of Redis's data (a silent baseline)."""
    if lease.rebaseline:
        return True
    return not lease.marked and extras.on_unmarked is not None and extras.on_unmarked()


def left_active(previous: ProviderState | None, doc: FeedDocument) -> list[str]:
    """Open incidents an active list no longer shows: the ones to look up."""
    if previous is None or doc.kind is not DocumentKind.ACTIVE:
        return []
    listed = {i.id for i in doc.incidents}
    return [
        iid
        for iid, known in previous.incidents.items()
        if iid not in listed and known.snapshot.is_active
    ]


def _last_ok(lease: Lease) -> datetime | None:
    """The last successful poll before this one (state stored before `ok_at` existed:
    the last poll, unless it failed; None: the diff takes its state's last poll)."""
    if lease.ok_at is not None:
        return lease.ok_at
    return lease.polled_at if lease.outcome not in (None, Outcome.FAILED) else None


def _awaiting_final(events: Sequence[ChangeEvent], state: ProviderState) -> list[str]:
    """Incidents this poll resolved on absence without the provider's final words."""
    return [
        e.incident_id
        for e in events
        if e.update is None
        and e.note is not None
        and (known := state.incidents.get(e.incident_id)) is not None
        and known.awaiting_final
    ]


def _failed(
    provider: ProviderLike,
    lease: Lease,
    store: ProviderStore,
    enqueue: Enqueue,
    now: datetime,
    threshold: int,
    exc: Exception,
) -> PollOutcome:
    # Anything but a FeedError came from a parser that choked on what the server sent.
    cause = exc.cause_code if isinstance(exc, FeedError) else Cause.UNREADABLE.value
    health, events = record_failure(
        lease.health, provider.id, _describe(exc), now, threshold, cause
    )
    # A story, not a drumbeat: the first failure of a streak and the poll that makes the
    # page count as unreachable are told; the ones between are detail.
    told = health.failures == 1 or (health.unreachable and not lease.health.unreachable)
    log.log(
        logging.WARNING if told else logging.DEBUG,
        "feed poll failed (%d in a row): %s",
        health.failures,
        health.last_error,
        extra={"provider": provider.id, "error": health.last_error, "failures": health.failures},
    )
    _hand_on(enqueue, events)
    # keep the old validators: the next poll must fetch and parse in full again
    ok = store.finish(lease, now=now, outcome=Outcome.FAILED, health=health)
    out = _outcome(Outcome.FAILED, events, ok)
    wait = exc.retry_after if isinstance(exc, FeedError) else None
    return PollOutcome(
        out.outcome,
        out.events,
        out.event_ids,
        health.last_error,
        type(exc).__name__,
        ok,
        wait,
        cause,
    )


def _tell_changes(provider: str, events: Sequence[ChangeEvent]) -> None:
    """One INFO line per poll that found something new: what changed, in a few words."""
    if not events:
        return
    # Ids come from the feed (untrusted): one short line each.
    seen = [f"{e.kind.value} {one_line(e.incident_id)[:60]}" for e in events[:5]]
    more = f" and {len(events) - 5} more" if len(events) > 5 else ""
    log.info("%d change(s): %s%s", len(events), ", ".join(seen), more,
             extra={"provider": provider})  # fmt: skip


def _parse(body: bytes | None, provider: ProviderLike) -> FeedDocument:
    if body is None:
        raise FeedError("empty response body", Cause.UNREADABLE)
    return registry.parse(body, provider.format, provider.id)


def _validators(result: FetchResultLike, before: Validators) -> Validators:
    if result.status == 304:
        return Validators(
            result.etag or before.etag,
            result.last_modified or before.last_modified,
            before.body_hash,
        )
    body_hash = result.body_hash
    if body_hash is None and result.body is not None:
        body_hash = hashlib.sha256(result.body).hexdigest()
    return Validators(result.etag, result.last_modified, body_hash)


def _describe(exc: Exception) -> str:
    if isinstance(exc, FeedError):
        return str(exc)  # FeedError messages are one safe line by contract
    # A parser bug is still only this provider's failure; say what, sanitized later.
    return f"{type(exc).__name__}: {exc}"


def _hand_on(enqueue: Enqueue, events: Sequence[ChangeEvent]) -> None:
    if events:
        enqueue(events)


def _outcome(kind: Outcome, events: Sequence[ChangeEvent], committed: bool) -> PollOutcome:
    ids = tuple(e.event_id for e in events)
    return PollOutcome(kind, len(events), ids, committed=committed)


__all__ = [
    "FetcherLike",
    "Outcome",
    "PollOutcome",
    "ProviderLike",
    "RetryFinal",
    "left_active",
    "poll_provider",
]

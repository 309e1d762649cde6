"""The ingest stage's entries: a poll, a probe, and the final-lookups sweep.

Each finds change events (`notifier.pipeline.ingest.poll`, `.probes`, `.finals`),
saves them, and hands them to planning through the hand-off
(`notifier.pipeline.handoff`) before the poller commits its snapshot. The one-second
tick (pushes, cadence) is `notifier.pipeline.ingest.tick`.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from notifier.config.load import ResolvedProvider
from notifier.feeds.discover import follow
from notifier.feeds.fetch import Fetcher
from notifier.models import ChangeEvent
from notifier.pipeline.handoff import HandOff
from notifier.pipeline.ingest import data_loss, finals
from notifier.pipeline.ingest.poll import PollOutcome, poll_provider
from notifier.pipeline.ingest.probes import ProbeOutcome, run_probe
from notifier.pipeline.runtime.due import Due
from notifier.pipeline.runtime.wiring import Runtime
from notifier.store.feeds.discovered import DiscoveredStore

log = logging.getLogger(__name__)


def enqueuer(
    rt: Runtime, handoff: HandOff, now: datetime
) -> Callable[[Sequence[ChangeEvent]], None]:
    """What a poll, push, probe or final lookup does with the events it found."""

    def enqueue(events: Sequence[ChangeEvent]) -> None:
        # Durable first: the records, then the queue. Only then may the poller commit.
        ids = [e.event_id for e in events]
        # The records and their entries in the due set go in one round trip.
        saved = rt.events.save(events, then=lambda pipe: handoff.due_events(ids, now, pipe))
        # Planned and delivered in this process, they need not be read back from Redis.
        rt.alerts.events_saved(saved)
        handoff.events(ids, now, saved, due_added=True)
        for kind, count in Counter(e.kind.value for e in events).items():
            rt.metrics.inc("notifier_events_total", count, kind=kind)

    return enqueue


def poll(rt: Runtime, provider_id: str, handoff: HandOff, now: datetime) -> PollOutcome:
    provider = rt.providers.get(provider_id)
    if provider is None:
        raise KeyError(f"provider {provider_id!r} is not in the subscription file")

    def retry_final(provider: str, incidents: Sequence[str]) -> None:
        for iid in incidents:
            entry = finals.FinalLookup(provider, iid)
            rt.due(Due.FINAL_LOOKUPS).add(entry.member, now + finals.wait(entry))

    def on_unmarked() -> bool:
        return data_loss.lost_since(rt.generation, rt.generation_seen, list(rt.providers), now)

    discovered = rt.discovered or DiscoveredStore(rt.client, rt.settings.key_prefix)
    if provider.discovers:
        provider = _with_discovered_feed(provider, discovered, rt.fetcher, now)

    def on_components(names: tuple[str, ...]) -> None:
        discovered.saw_components(provider_id, names)

    began = time.monotonic()
    outcome = poll_provider(
        provider, rt.state, rt.fetcher, enqueuer(rt, handoff, now), now,
        rt.settings.feed_failure_threshold, name=provider.name, retry_final=retry_final,
        on_unmarked=on_unmarked, rebaselined=rt.generation.rebaselined,
        on_components=on_components, known_before_loss=rt.threads.known_before_loss,
        max_new_incidents=rt.settings.max_new_incidents_per_poll,
    )  # fmt: skip
    if outcome.retry_after is not None:
        # The status page asked us to wait (429 / Retry-After): the tick holds its polls.
        rt.cadence.hold(provider_id, now + timedelta(seconds=outcome.retry_after))
        log.warning("status page asked us to wait %.0f s", outcome.retry_after,
                    extra={"provider": provider_id})  # fmt: skip
    if provider.page and outcome.cause in follow.MOVED_CAUSES:
        # Status pages move: find the feed again; the next poll reads it.
        follow.after_failure(provider_id, provider.page, outcome.cause, discovered, rt.fetcher, now)
    if outcome.outcome != "skipped_locked":  # no poll happened: nothing to time
        rt.metrics.record_poll(provider_id, outcome.outcome, time.monotonic() - began)
    else:
        rt.metrics.inc("notifier_polls_total", provider=provider_id, outcome=outcome.outcome)
    if outcome.error:
        rt.metrics.inc(
            "notifier_feed_errors_total",
            provider=provider_id,
            error=outcome.error_type or "unknown",
        )
    return outcome


def _with_discovered_feed(
    provider: ResolvedProvider, store: DiscoveredStore, fetcher: Fetcher, now: datetime
) -> ResolvedProvider:
    """The provider with the feed remembered or discovered behind its page. With none
    found, the page itself is polled: the poll fails as "an HTML page, not a feed", and
    feed health tells the story like any broken feed."""
    found = follow.current_feed(provider.id, provider.page, store, fetcher, now)
    if found is None:
        return replace(provider, url=provider.page, format="auto")
    fmt = provider.format if provider.format != "auto" else found.format
    return replace(provider, url=found.url, format=fmt)


def look_for_final_words(rt: Runtime, handoff: HandOff, now: datetime) -> int:
    """Look again, in the providers' histories, for the final updates of incidents
    resolved on absence whose time has come (see `notifier.pipeline.ingest.finals`)."""
    lookups = rt.due(Due.FINAL_LOOKUPS)
    with lookups.sweeping() as mine:
        due = lookups.due(now, limit=10) if mine else []  # each may take a fetch
        for member in due:
            entry = finals.FinalLookup.parse(member)
            provider = rt.providers.get(entry.provider) if entry else None
            if entry is not None and provider is not None:
                enqueue = enqueuer(rt, handoff, now)
                found = finals.look_again(entry, provider, rt.state, rt.fetcher, enqueue, now)
                if found is not None:
                    lookups.add(found[0].member, found[1])
                    if found[0].member == member:
                        continue  # the same look again, later
            # After the look: a crash before this re-looks (harmless), never loses it.
            lookups.discard(member)
        return len(due)


def probe(rt: Runtime, provider_id: str, n: int, handoff: HandOff, now: datetime) -> ProbeOutcome:
    """Run probe `n` of a provider once (see `notifier.pipeline.ingest.probes`)."""
    provider = rt.providers.get(provider_id)
    if provider is None or n >= len(provider.probes):
        raise KeyError(f"provider {provider_id!r} has no probe {n}")
    outcome = run_probe(
        provider, n, rt.prober, rt.probes, rt.state.load_state(provider_id),
        enqueuer(rt, handoff, now), now,
    )  # fmt: skip
    rt.metrics.inc("notifier_probes_total", provider=provider_id,
                   outcome="ok" if outcome.result.ok else "failed")  # fmt: skip
    if not outcome.result.ok and outcome.failures == 1:
        log.warning("probe %d failed: %s", n, outcome.result.cause, extra={"provider": provider_id})
    return outcome

"""Final words, later: look again for the final update of an incident resolved on absence.

When an incident left an active list and its history could not confirm how it ended,
the diff resolved it in notifier's own words ("no final update was published"). A
due-set entry then looks the history up again a few times (`AFTER`, counted from the
resolution); when it finds the provider's final update, `notifier.diff.engine.
final_words` posts it once, as a `new_update` in the incident's thread. An entry is
`provider id`, `incident id` and the attempt number, joined by a unit separator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from notifier.diff.engine import final_words
from notifier.feeds.history import look_up
from notifier.pipeline.ingest.poll import Enqueue, FetcherLike, ProviderLike
from notifier.store.feeds.providers import ProviderStore

# When to look again, after the resolution: a history lagging behind its list is
# usually a minute or two late; after half a day, nothing more is coming.
AFTER = (
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=4),
    timedelta(hours=12),
)
BUSY_WAIT = timedelta(seconds=30)  # the provider was being polled: try again soon
_SEP = "\x1f"


@dataclass(frozen=True, slots=True)
class FinalLookup:
    provider: str
    incident: str
    attempt: int = 0

    @property
    def member(self) -> str:
        return _SEP.join((self.provider, self.incident, str(self.attempt)))

    @classmethod
    def parse(cls, member: str) -> FinalLookup | None:
        parts = member.split(_SEP)
        if len(parts) != 3 or not parts[2].isdigit():
            return None
        return cls(parts[0], parts[1], int(parts[2]))


def wait(entry: FinalLookup) -> timedelta:
    """How long after scheduling `entry` it is due (the gaps between `AFTER`'s times)."""
    before = AFTER[entry.attempt - 1] if entry.attempt else timedelta(0)
    return AFTER[entry.attempt] - before


def look_again(
    entry: FinalLookup,
    provider: ProviderLike,
    store: ProviderStore,
    fetcher: FetcherLike,
    enqueue: Enqueue,
    now: datetime,
) -> tuple[FinalLookup, datetime] | None:
    """One look; returns the next entry and when it is due, or None when settled or
    given up.

    Takes the provider's poll lease, so a poll and a look never write over each
    other; the events are handed on before the state is stored (as a poll does)."""
    lease = store.begin(provider.id)
    if lease is None:
        return entry, now + BUSY_WAIT  # being polled: the same attempt again, soon
    try:
        state = lease.state()
        if state is None:
            store.release(lease)
            return None
        found = look_up(fetcher, provider.url, provider.id, [entry.incident])
        words = final_words(state, entry.incident, found.get(entry.incident), now)
        if words.events:
            enqueue(words.messages)
        if words.state is not state:
            store.save_state(lease, words.state)
        else:
            store.release(lease)
    except BaseException:
        store.release(lease)
        raise
    if words.settled:
        return None
    later = FinalLookup(entry.provider, entry.incident, entry.attempt + 1)
    return (later, now + wait(later)) if later.attempt < len(AFTER) else None


__all__ = ["AFTER", "BUSY_WAIT", "FinalLookup", "look_again", "wait"]

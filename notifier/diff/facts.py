"""What the poll stage knows besides the document (`PollFacts`), and notifier's own words
for what the provider did not say, which name the provider as the poll knows it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from notifier.models import Incident


@dataclass(frozen=True, slots=True)
class PollFacts:
    """What the poll stage knows besides the document; every field is optional.

    `lookups` holds the history lookups of incidents that left an active list in
    this poll: the incident as the provider's history shows it, or None when the
    history was unreachable or lacks it. An id not in it was not looked up.
    """

    name: str = ""  # the provider's display name, for notifier's own words ("": its id)
    last_ok: datetime | None = None  # the last successful poll before (default: the state's)
    lookups: Mapping[str, Incident | None] = field(default_factory=dict)


def possessive(facts: PollFacts, inc: Incident) -> str:
    name = " ".join((facts.name or inc.provider).split())
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def clock(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%H:%M UTC")


def unlisted_note(facts: PollFacts, inc: Incident, gone: datetime) -> str:
    """Our words for a resolution the provider gave none for (never an older update)."""
    where = f"{possessive(facts, inc)} status page"
    return f"No longer listed on {where} as of {clock(gone)}; no final update was published"


def no_words_note(facts: PollFacts, inc: Incident, now: datetime) -> str:
    where = f"{possessive(facts, inc)} status page"
    return f"Marked resolved on {where} as of {clock(now)}; no final update was published"


__all__ = ["PollFacts", "clock", "no_words_note", "possessive", "unlisted_note"]

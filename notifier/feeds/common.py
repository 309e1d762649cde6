"""Helpers shared by the format parsers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime

from notifier.models import Update


def update_key(at: datetime, ordinal: int) -> str:
    """Identity of an update: its minute plus its place among updates of that minute.

    Minute precision because Statuspage Atom shows only minutes while its JSON shows
    seconds; the same update read from either must get the same key. The status is
    left out because Atom labels ("Update") differ from JSON statuses.
    """
    return f"{at.astimezone(UTC):%Y%m%dT%H%MZ}#{ordinal}"


def assign_update_keys(updates: Iterable[Update]) -> tuple[Update, ...]:
    """Sort oldest first and key them.

    The sort is stable: pass same-minute updates in the order they were posted
    (reverse a newest-first document before calling).
    """
    ordered = sorted(updates, key=lambda u: u.at)
    seen: Counter[str] = Counter()
    keyed = []
    for u in ordered:
        minute = f"{u.at.astimezone(UTC):%Y%m%dT%H%M}"
        seen[minute] += 1
        keyed.append(replace(u, key=update_key(u.at, seen[minute])))
    return tuple(keyed)

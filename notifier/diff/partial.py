"""A partial document (a webhook push) merged into what the diff knows.

`merge(previous, document, now)` is the diff of the incidents the document names,
and nothing else: an incident it does not name is left exactly as it was (a push
about one incident says nothing about the others, so it never resolves, marks gone
or counts as an absence). The update keys the diff remembers are shared with the
polls, so an update seen first by push and then by a poll (or the other way round)
alerts once. A push is not a poll: the state's `polled_at` and `floor` stay.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from notifier.diff.engine import DiffResult, diff
from notifier.diff.facts import PollFacts
from notifier.models import DocumentKind, FeedDocument
from notifier.store.feeds.snapshot import ProviderState


def merge(
    previous: ProviderState | None,
    document: FeedDocument,
    now: datetime,
    facts: PollFacts | None = None,
) -> DiffResult:
    """Events for the incidents `document` names, and the state with only those changed.

    With no state yet (never polled), the incidents are news, not a baseline: the
    page pushed them because they just happened."""
    prev = previous or ProviderState()
    named = {inc.id for inc in document.incidents}
    # Only what was pushed is diffed: the others are not in this document on purpose.
    scoped = replace(prev, incidents={k: v for k, v in prev.incidents.items() if k in named})
    window = replace(document, kind=DocumentKind.HISTORY)
    result = diff(scoped, window, now, facts)
    incidents = {**prev.incidents, **{k: v for k, v in result.state.incidents.items()}}
    state = ProviderState(polled_at=prev.polled_at, floor=prev.floor, incidents=incidents)
    return DiffResult(result.events, state)


__all__ = ["merge"]

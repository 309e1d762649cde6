"""Which silence, if any, mutes an alert: the matchers, and the two things no silence
may hide (Alertmanager's model, with the on-call's two exceptions).

- A severity rise: a silence made for a `minor` incident does not mute it once the
  provider calls it `major`, unless the silence was made for any impact.
- The all-clear of an incident whose opening was sent: whoever heard "down" must hear
  "up again", or they go on acting on a stale alarm.

Pure: the caller says whether the incident's opening reached this route.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from notifier.models import Alert, AlertKind, EventKind
from notifier.store.ops.silences import Silence

# Alerts that tell a route something ended (resolutions and their kin).
_ENDINGS = frozenset(
    {EventKind.RESOLVED, EventKind.MAINTENANCE_COMPLETED, EventKind.FEED_RECOVERED}
)


def is_ending(alert: Alert) -> bool:
    return alert.kind is AlertKind.RESOLVED or alert.event.kind in _ENDINGS


def silence_for(
    alert: Alert,
    silences: Iterable[Silence],
    now: datetime,
    opening_sent: Callable[[], bool],
) -> Silence | None:
    """The active silence that mutes `alert`, or None when it must go out.

    `opening_sent` is asked only for an ending that a silence would mute: whether the
    incident's first alert on this route was sent (or printed)."""
    inc = alert.event.incident
    found = next(
        (
            s
            for s in silences
            if s.active(now)
            and s.matches(inc.provider, inc.components, alert.subscriber)
            and s.covers_impact(inc.impact)
        ),
        None,
    )
    if found is None:
        return None
    if is_ending(alert) and opening_sent():
        return None
    return found

"""The recent-incident index: every provider's open incidents and those closed within
`RECENT_WINDOW` (`notifier.store.feeds.snapshot`), read in one round trip for correlation.

Key: `{p}:incidents` hash, `{provider}/{incident_id}` → `{"incident": …, "until": …}`.
The poll writes it (`notifier.store.feeds.providers`) in the same script that stores
the provider's snapshot, with the writes `index_writes` computes; this module reads it.
"""

from __future__ import annotations

import json
from datetime import datetime

import redis

from notifier.models import Incident, incident_from_dict, iso, parse_iso, to_jsonable
from notifier.store.conn.batch import Batch, Later, read_now
from notifier.store.feeds.snapshot import ProviderState, recent_until

# Fields to set, fields to delete, and when the provider's entries next need trimming.
IndexWrites = tuple[dict[str, str], list[str], datetime | None]


def index_key(prefix: str) -> str:
    return f"{prefix}:incidents"


def index_writes(
    provider: str, state: ProviderState, previous: ProviderState | None, now: datetime
) -> IndexWrites:
    """Index writes for one provider: fields to set, to delete, and when to look again."""
    sets: dict[str, str] = {}
    dels = {f"{provider}/{i}" for i in (previous.incidents if previous else {})}
    due: datetime | None = None
    for iid, known in state.incidents.items():
        name, until = f"{provider}/{iid}", recent_until(known)
        if until is not None and until <= now:
            dels.add(name)
            continue
        doc = {"incident": to_jsonable(known.snapshot), "until": iso(until)}
        sets[name] = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
        if until is not None:
            due = until if due is None else min(due, until)
    return sets, sorted(dels - set(sets)), due


class IncidentIndex:
    """Reads the index the polls keep."""

    def __init__(self, redis: redis.Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        # Each entry as last read, decoded: every plan reads the whole index, and an
        # entry holds its incident's every update (10 providers with 20 updates each took
        # 0.5 ms a plan to decode), yet between two plans one or two entries change.
        # Incidents are immutable, so an unchanged entry's is shared. Holds only what the
        # last read returned.
        self._decoded: dict[bytes, tuple[datetime | None, Incident]] = {}

    def recent_incidents(self, now: datetime | None = None) -> list[Incident]:
        """Open incidents of every provider plus those closed within RECENT_WINDOW.

        The index is trimmed as providers are polled; pass `now` to also drop
        entries whose window ran out since.
        """
        return read_now(self.redis, lambda batch: self.recent_into(batch, now))

    def recent_into(self, batch: Batch, now: datetime | None = None) -> Later[list[Incident]]:
        """`recent_incidents`, queued on the caller's batch."""
        batch.pipe.hvals(index_key(self.prefix))
        return batch.later(lambda raws: self._recent(raws, now))

    def _recent(self, raws: list[bytes], now: datetime | None) -> list[Incident]:
        known, decoded, out = self._decoded, {}, []
        for raw in raws:
            entry = known.get(raw) or _decode(raw)
            decoded[raw] = entry
            until, incident = entry
            if now is None or until is None or now < until:
                out.append(incident)
        self._decoded = decoded
        out.sort(key=lambda i: (i.provider, i.id))
        return out


def _decode(raw: bytes) -> tuple[datetime | None, Incident]:
    d = json.loads(raw)
    return parse_iso(d.get("until")), incident_from_dict(d["incident"])


__all__ = ["IncidentIndex", "IndexWrites", "index_key", "index_writes"]

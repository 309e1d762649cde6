"""Synthetic probes' streaks and the early warnings they raised, in Redis.

Keys (all under `prefix`):
- `<p>:probe:<provider>:<n>` hash, probe n's current streak: `failures`, `since`
  (its first failure), `causes` (JSON {cause: count}), `raised` ("1": this streak
  raised the provider's warning);
- `<p>:probe-warning:<provider>`: the open early warning of the provider, JSON
  `{"incident": <the synthetic Incident>, "confirmed": <ISO or null>}`; the planner
  reads it to put the provider's own incident in the warning's thread.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import redis

from notifier.models import Incident, incident_from_dict, iso, parse_iso, to_jsonable
from notifier.store.conn.batch import text

WARNING_TTL_S = 7 * 24 * 3600  # a warning nobody closed (probe removed) lapses


@dataclass(frozen=True, slots=True)
class Streak:
    failures: int = 0
    since: datetime | None = None
    causes: Counter[str] = field(default_factory=Counter)
    raised: bool = False


@dataclass(frozen=True, slots=True)
class EarlyWarning:
    incident: Incident  # synthetic: id `probe-…`, started_at = the first failed probe
    confirmed: datetime | None = None  # when the provider's own incident joined it


class ProbeStore:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def _streak_key(self, provider: str, n: int) -> str:
        return f"{self.prefix}:probe:{provider}:{n}"

    def _warning_key(self, provider: str) -> str:
        return f"{self.prefix}:probe-warning:{provider}"

    def streak(self, provider: str, n: int) -> Streak:
        raw: dict[bytes, bytes] = self.client.hgetall(self._streak_key(provider, n))  # type: ignore[assignment]
        h = {text(k): text(v) for k, v in raw.items()}
        return Streak(
            failures=int(h.get("failures") or 0),
            since=parse_iso(h.get("since") or None),
            causes=Counter(json.loads(h.get("causes") or "{}")),
            raised=h.get("raised") == "1",
        )

    def save_streak(self, provider: str, n: int, streak: Streak) -> None:
        key = self._streak_key(provider, n)
        if streak.failures == 0:
            self.client.delete(key)
            return
        self.client.hset(key, mapping={
            "failures": str(streak.failures), "since": iso(streak.since) or "",
            "causes": json.dumps(dict(streak.causes)), "raised": "1" if streak.raised else "0",
        })  # fmt: skip

    def warning(self, provider: str) -> EarlyWarning | None:
        raw = self.client.get(self._warning_key(provider))
        if raw is None:
            return None
        d = json.loads(raw)
        return EarlyWarning(incident_from_dict(d["incident"]), parse_iso(d.get("confirmed")))

    def warnings(self, providers: Iterable[str]) -> dict[str, EarlyWarning]:
        """The open warnings of `providers`, in one round trip."""
        ids = list(dict.fromkeys(providers))
        if not ids:
            return {}
        raws = self.client.mget([self._warning_key(p) for p in ids])
        out = {}
        for provider, raw in zip(ids, raws, strict=True):
            if raw is not None:
                d = json.loads(raw)
                out[provider] = EarlyWarning(
                    incident_from_dict(d["incident"]), parse_iso(d.get("confirmed"))
                )
        return out

    def raise_warning(self, provider: str, incident: Incident) -> bool:
        """Store the provider's warning unless one is open; False when one was."""
        doc = {"incident": to_jsonable(incident), "confirmed": None}
        return bool(
            self.client.set(self._warning_key(provider), json.dumps(doc), nx=True, ex=WARNING_TTL_S)
        )

    def confirm(self, provider: str, at: datetime) -> None:
        """The provider's own incident joined its warning (first confirmation wins)."""
        found = self.warning(provider)
        if found is None or found.confirmed is not None:
            return
        doc = {"incident": to_jsonable(found.incident), "confirmed": iso(at)}
        self.client.set(self._warning_key(provider), json.dumps(doc), xx=True, keepttl=True)

    def close_warning(self, provider: str) -> None:
        self.client.delete(self._warning_key(provider))


__all__ = ["EarlyWarning", "ProbeStore", "Streak"]

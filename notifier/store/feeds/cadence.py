"""When each provider is next polled (and each probe next run), and why: the state
behind adaptive polling, read and written by the pipeline's one-second tick.

Keys (all under `prefix`):
- `<p>:cadence:due` sorted set: member `poll:<provider>` or `probe:<provider>:<n>`,
  score = when it is next due (Unix seconds);
- `<p>:cadence:why` hash: provider -> JSON `{"interval", "why", "at"}`, the effective
  interval last chosen and its reason (for `notifier providers --watched`);
- `<p>:cadence:hold` hash: provider -> Unix seconds before which it must not be
  polled (a status page's 429 / Retry-After).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from notifier.store.conn.batch import text


@dataclass(frozen=True, slots=True)
class Why:
    interval: float
    why: str
    at: datetime | None = None  # when it was chosen


def poll_member(provider: str) -> str:
    return f"poll:{provider}"


def probe_member(provider: str, index: int) -> str:
    return f"probe:{provider}:{index}"


class Cadence:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.due_key = f"{prefix}:cadence:due"
        self.why_key = f"{prefix}:cadence:why"
        self.hold_key = f"{prefix}:cadence:hold"

    def seed(self, members: Iterable[str], when: datetime) -> None:
        """Add members not scheduled yet, due at `when`; leave the others alone."""
        items = {m: when.timestamp() for m in members}
        if items:
            self.client.zadd(self.due_key, items, nx=True)

    def size(self) -> int:
        """How many members are scheduled (fewer than configured: Redis lost some)."""
        return int(self.client.zcard(self.due_key))

    def keep_only(self, members: Iterable[str]) -> int:
        """Forget members no longer configured; how many were dropped."""
        wanted = set(members)
        known = [text(m) or "" for m in self.client.zrange(self.due_key, 0, -1)]
        gone = [m for m in known if m not in wanted]
        if gone:
            self.client.zrem(self.due_key, *gone)
        return len(gone)

    def drop(self, members: Iterable[str]) -> None:
        """Unschedule `members` (no longer configured)."""
        members = list(members)
        if members:
            self.client.zrem(self.due_key, *members)

    def due(self, now: datetime, limit: int = 1000) -> list[str]:
        raw: list[bytes] = self.client.zrangebyscore(  # type: ignore[assignment]
            self.due_key, "-inf", now.timestamp(), start=0, num=limit
        )
        return [text(m) for m in raw]

    def next_at(self, schedule: Mapping[str, datetime]) -> None:
        """Set each member's next due time (one round trip)."""
        if schedule:
            self.client.zadd(self.due_key, {m: t.timestamp() for m, t in schedule.items()})

    def sooner(self, schedule: Mapping[str, datetime]) -> None:
        """Bring members forward to the given times; never later than they already are."""
        if schedule:
            self.client.zadd(self.due_key, {m: t.timestamp() for m, t in schedule.items()}, lt=True)

    def when(self, member: str) -> datetime | None:
        score = self.client.zscore(self.due_key, member)
        return None if score is None else datetime.fromtimestamp(float(score), UTC)

    def hold(self, provider: str, until: datetime) -> None:
        """No poll of `provider` before `until` (the status page asked us to wait)."""
        self.client.hset(self.hold_key, provider, str(until.timestamp()))

    def holds(self) -> dict[str, datetime]:
        raw: dict[bytes, bytes] = self.client.hgetall(self.hold_key)  # type: ignore[assignment]
        return {text(k): datetime.fromtimestamp(float(text(v)), UTC) for k, v in raw.items()}

    def clear_hold(self, *providers: str) -> None:
        if providers:
            self.client.hdel(self.hold_key, *providers)

    def explain(self, reasons: Mapping[str, Why]) -> None:
        if reasons:
            self.client.hset(
                self.why_key,
                mapping={
                    p: json.dumps(
                        {
                            "interval": w.interval,
                            "why": w.why,
                            "at": w.at.timestamp() if w.at else None,
                        }
                    )
                    for p, w in reasons.items()
                },
            )

    def reasons(self) -> dict[str, Why]:
        raw: dict[bytes, bytes] = self.client.hgetall(self.why_key)  # type: ignore[assignment]
        out = {}
        for k, v in raw.items():
            d = json.loads(v)
            at = datetime.fromtimestamp(d["at"], UTC) if d.get("at") else None
            out[text(k)] = Why(float(d["interval"]), str(d["why"]), at)
        return out

    @contextmanager
    def ticking(self, ttl_s: int = 30) -> Iterator[bool]:
        """True for the one tick that may schedule now; overlapping ticks skip."""
        lock = self.client.lock(f"{self.due_key}:tick", timeout=ttl_s, blocking=False)
        got = bool(lock.acquire())
        try:
            yield got
        finally:
            if got:
                with suppress(redis.exceptions.LockError):
                    lock.release()


__all__ = ["Cadence", "Why", "poll_member", "probe_member"]

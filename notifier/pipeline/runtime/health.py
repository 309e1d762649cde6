"""Is the service doing its job? One pure decision over what Redis says, and its reader.

Healthy means all of these hold:
- `redis`: Redis answers (and, through Sentinel, the sentinels name a primary; the check
  says which primary is in use and since when);
- `beat`: the beat's heartbeat is at most 3 ticks old (polls are being scheduled);
- `workers`: at least one worker wrote its heartbeat within 3 ticks (someone runs them);
- `due`: no due work (a delivery retry, a quiet-hours hold, an escalation check, a
  reconcile straggler) has waited past its time longer than `due_max_age`;
- `feeds` (when providers are watched): no more than `blind_share` of them have had
  no good poll for 3 poll intervals (`notifier.pipeline.runtime.blindness`).

One more check only informs, and never fails: `history`, the age of the oldest row
waiting in the history outbox for the database (the database is optional: when it is
down, pages still go, and its rows wait).

`/healthz`, `notifier status` and the dead man's switch all ask `observe`, so they can
never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import redis

from notifier.config.settings import Settings
from notifier.pipeline.runtime.blindness import Watched, blind_feeds, describe, read_feeds
from notifier.store.conn.primary import Primary
from notifier.store.conn.primary import describe as describe_primary
from notifier.store.ops.heartbeats import Heartbeats, Pulse

if TYPE_CHECKING:
    from notifier.config.schema import Config

TICKS = 3  # heartbeats a process may miss before it counts as gone


@dataclass(frozen=True, slots=True)
class Limits:
    tick_s: float
    due_max_age_s: float
    blind_share: float = 0.5  # the feeds check fails above this share of blind providers

    @property
    def heartbeat_max_age_s(self) -> float:
        return TICKS * self.tick_s

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(settings.heartbeat_interval, settings.due_max_age, settings.feeds_blind_share)


def watched_of(config: Config | None) -> tuple[Watched, ...]:
    """The providers a subscription file watches, with their poll intervals."""
    if config is None:
        return ()
    return tuple(Watched(p.id, p.poll_interval) for p in config.resolved_providers())


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    age_s: float | None  # how old the evidence is; None when there is none
    threshold_s: float | None  # the largest age that is still healthy
    detail: str

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "age_s": None if self.age_s is None else round(self.age_s, 3),
            "threshold_s": self.threshold_s,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Health:
    checks: tuple[Check, ...]
    primary: Primary | None = None  # the Redis primary in use, when asked for

    @property
    def healthy(self) -> bool:
        return all(c.ok for c in self.checks)

    def failing(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "healthy": self.healthy,
            "checks": [c.to_json() for c in self.checks],
        }
        if self.primary is not None:
            out["redis_primary"] = self.primary.as_dict()
        return out

    def with_primary(self, primary: Primary) -> Health:
        """The same checks, and `primary` named in the redis check and the JSON."""
        # No primary named (the sentinels know none): not healthy, whatever else answered.
        ok = primary.address is not None
        checks = tuple(
            replace(c, ok=c.ok and ok, detail=f"{c.detail}; {primary_words(primary)}")
            if c.name == "redis"
            else c
            for c in self.checks
        )
        return Health(checks, primary)


def primary_words(p: Primary) -> str:
    """`primary 10.0.0.5:6379 (via sentinel) since 2026-…, 2 failovers, 1 replica`."""
    if p.address is None:
        return f"no primary ({p.error or 'unknown'})"
    since = f" since {p.since.isoformat(timespec='seconds')}" if p.since else ""
    extra = [f"{p.failovers} failover(s)"] if p.failovers is not None else []
    if p.replicas is not None:
        extra.append(f"{p.replicas} replica(s)")
    tail = f", {', '.join(extra)}" if extra else ""
    degraded = "; DEGRADED: no replica confirms writes" if p.degraded else ""
    return f"primary {p.address} (via {p.via}){since}{tail}{degraded}"


def _age(then: datetime, now: datetime) -> float:
    return max(0.0, (now - then).total_seconds())  # another host's clock may run ahead


def _s(seconds: float) -> str:
    return f"{seconds:.1f} s"


def assess(
    pulse: Pulse | None,
    limits: Limits,
    now: datetime,
    why: str = "",
    watched: Sequence[Watched] = (),
    feeds: Mapping[str, Mapping[str, str]] | None = None,
) -> Health:
    """The health of the service at `now`. `pulse` is what Redis held, or None when
    Redis did not answer (`why` says how it failed). `feeds`: the watched providers'
    poll records (`blindness.read_feeds`)."""
    max_age = limits.heartbeat_max_age_s
    if pulse is None:
        unknown = "unknown: Redis does not answer"
        answer = f"does not answer: {why}" if why else "does not answer"
        lost = [
            Check("redis", False, None, None, answer),
            Check("beat", False, None, max_age, unknown),
            Check("workers", False, None, max_age, unknown),
            Check("due", False, None, limits.due_max_age_s, unknown),
        ]
        if watched:
            lost.append(Check("feeds", False, None, None, unknown))
        return Health(tuple(lost))
    checks = [Check("redis", True, None, None, "answers")]

    if pulse.beat_at is None:
        checks.append(Check("beat", False, None, max_age, "no beat has ever ticked"))
    else:
        age = _age(pulse.beat_at, now)
        ok = age <= max_age
        detail = f"last tick {_s(age)} ago" + ("" if ok else f", more than {_s(max_age)}")
        checks.append(Check("beat", ok, age, max_age, detail))

    alive = {h: _age(t, now) for h, t in pulse.workers.items() if _age(t, now) <= max_age}
    if alive:
        freshest = min(alive.values())
        names = ", ".join(sorted(alive))
        checks.append(Check("workers", True, freshest, max_age, f"{len(alive)} alive: {names}"))
    else:
        last = [_age(t, now) for t in pulse.workers.values()]
        checks.append(
            Check("workers", False, min(last) if last else None, max_age, "no worker alive")
        )

    overdue = 0.0 if pulse.earliest_due is None else _age(pulse.earliest_due, now)
    ok = overdue <= limits.due_max_age_s
    if overdue == 0.0:
        detail = "nothing overdue"
    else:
        detail = f"oldest due work waits {_s(overdue)}" + (
            "" if ok else f", more than {_s(limits.due_max_age_s)}"
        )
    checks.append(Check("due", ok, overdue, limits.due_max_age_s, detail))
    if watched:
        blind = blind_feeds(feeds or {}, watched, now)
        ok, detail = describe(blind, len(watched), limits.blind_share)
        oldest = max((b.age_s for b in blind), default=None)
        checks.append(Check("feeds", ok, oldest, None, detail))
    checks.append(_history(pulse, now))
    return Health(tuple(checks))


def _history(pulse: Pulse, now: datetime) -> Check:
    """Informational: how far the history database is behind (never unhealthy)."""
    if pulse.outbox_oldest is None:
        return Check("history", True, 0.0, None, "outbox empty: the database has every row")
    age = _age(pulse.outbox_oldest, now)
    return Check("history", True, age, None, f"{pulse.outbox_depth} rows wait for the "
                 f"database, the oldest {_s(age)}")  # fmt: skip


def observe(
    client: redis.Redis,
    prefix: str,
    limits: Limits,
    now: datetime,
    watched: Sequence[Watched] = (),
    redis_url: str | None = None,
) -> Health:
    """Read the signs of life from Redis and judge them; a Redis that does not answer
    is a failed check, never an exception. `watched`: the providers the feeds check
    looks at (none: no feeds check). With `redis_url`, also which primary is in use."""
    try:
        pulse = Heartbeats(client, prefix).read(now, limits.heartbeat_max_age_s)
        feeds = read_feeds(client, prefix, watched) if watched else {}
    except (redis.RedisError, OSError) as exc:
        health = assess(None, limits, now, type(exc).__name__, watched)
    else:
        health = assess(pulse, limits, now, "", watched, feeds)
    return health if redis_url is None else health.with_primary(describe_primary(redis_url, client))

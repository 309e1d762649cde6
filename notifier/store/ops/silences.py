"""Silences in Redis, in Alertmanager's model: matchers, who, why, and until when.

A silence names a provider and, optionally, one component and one subscriber. While
it is active, a matching alert is not sent; delivery records it as `silenced` with
the silence's id (`notifier.pipeline.delivery.attempt`). What a silence may mute beyond its
matchers (a severity rise, a resolution) is routing policy: `notifier.route.silencing`.

A silence carries the highest impact it was made for (`max_impact`): an incident
that grows past it is heard again, unless the silence was made for any impact (None).
Expiring a silence ends it now; ended silences stay readable for `KEEP_ENDED`, for the
record, and are pruned as the list is read.

Keys (under the prefix), a form that expires by itself:
- `silence:<id>`: the silence's JSON, expiring `KEEP_ENDED` after the silence ends;
- `silences:ends` sorted set: id -> when it ends (Unix seconds), pruned of silences ended
  more than `KEEP_ENDED` ago whenever it is read or written.
A delivery reads only the silences not ended yet (one script, in the same round trip as
the rest of its inputs), never the ones kept for the record. The hash `silences` of
earlier releases is still read, and moved into this form at the next list or write.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from notifier.config.schema import Config
from notifier.config.suggest import closest
from notifier.models import Impact, Incident, iso, parse_iso
from notifier.store.conn.batch import Batch, Later, text
from notifier.store.ops import outbox

KEEP_ENDED = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Silence:
    id: str
    provider: str
    created_by: str
    reason: str
    starts_at: datetime
    ends_at: datetime
    component: str | None = None
    subscriber: str | None = None
    max_impact: Impact | None = None  # None: mutes any impact (`--any-impact`)
    expired_by: str | None = None  # who ended it early, if anyone

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at

    def matches(self, provider: str, components: tuple[str, ...], subscriber: str) -> bool:
        """Whether the matchers select an alert of `provider` touching `components`
        (case-insensitive) for `subscriber`."""
        if provider != self.provider:
            return False
        if self.subscriber is not None and subscriber != self.subscriber:
            return False
        if self.component is not None:
            wanted = self.component.casefold()
            return any(c.casefold() == wanted for c in components)
        return True

    def covers_impact(self, impact: Impact) -> bool:
        """Whether an incident of `impact` is within what the silence was made for."""
        return self.max_impact is None or impact.rank <= self.max_impact.rank

    def matchers(self) -> str:
        """`provider=openai component=ChatGPT`, as the command line takes them."""
        parts = [f"provider={self.provider}"]
        if self.component is not None:
            parts.append(f"component={self.component}")
        if self.subscriber is not None:
            parts.append(f"subscriber={self.subscriber}")
        return " ".join(parts)

    def to_json(self) -> str:
        d: dict[str, Any] = asdict(self)
        d["starts_at"], d["ends_at"] = iso(self.starts_at), iso(self.ends_at)
        d["max_impact"] = self.max_impact.value if self.max_impact is not None else None
        return json.dumps(d)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Silence:
        d = json.loads(raw)
        starts, ends = parse_iso(d.pop("starts_at")), parse_iso(d.pop("ends_at"))
        assert starts is not None and ends is not None
        impact = d.pop("max_impact", None)
        return cls(
            **d, starts_at=starts, ends_at=ends, max_impact=Impact(impact) if impact else None
        )


def new_id() -> str:
    """Short, unguessable enough to not collide, easy to type: 8 hex digits."""
    return secrets.token_hex(4)


# KEYS: the index. ARGV: now, prune-before (Unix seconds), the key prefix of silences.
# The JSON of every silence that ends at or after `now`, pruning the index first.
_NOT_ENDED = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')
if #ids == 0 then return {} end
local keys = {}
for i, id in ipairs(ids) do keys[i] = ARGV[3] .. id end
return redis.call('MGET', unpack(keys))
"""


class SilenceStore:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.r, self.legacy, self.prefix = client, f"{prefix}:silences", prefix
        self.index, self.base = f"{prefix}:silences:ends", f"{prefix}:silence:"

    def add(self, silence: Silence) -> Silence:
        self._migrate()
        self._put(silence, silence.starts_at)
        return silence

    def _put(self, silence: Silence, now: datetime) -> None:
        """Store it (a key that expires itself, and its end in the index), and queue it
        for the history in the same round trip."""
        body = silence.to_json()
        keep = silence.ends_at + KEEP_ENDED - min(now, silence.ends_at)
        pipe = self.r.pipeline(transaction=False)
        pipe.set(self.base + silence.id, body, ex=max(60, int(keep.total_seconds())))
        pipe.zadd(self.index, {silence.id: silence.ends_at.timestamp()})
        outbox.append(self.r, self.prefix, outbox.SILENCE, now, json.loads(body), pipe)
        pipe.execute()

    def get(self, silence_id: str) -> Silence | None:
        raw = self.r.get(self.base + silence_id) or self.r.hget(self.legacy, silence_id)
        return Silence.from_json(text(raw)) if raw else None

    def expire(self, silence_id: str, now: datetime, by: str) -> Silence | None:
        """End the silence now (kept for the record); None when there is no such id.
        Expiring an ended silence changes nothing."""
        self._migrate()
        found = self.get(silence_id)
        if found is None or found.ends_at <= now:
            return found
        ended = replace(found, ends_at=max(now, found.starts_at), expired_by=by)
        self._put(ended, now)
        return ended

    def all(self, now: datetime) -> list[Silence]:
        """Every silence not yet pruned (active first, then the most recently ended);
        prunes those ended more than `KEEP_ENDED` ago."""
        self._migrate()
        prune = (now - KEEP_ENDED).timestamp()
        raw = self.r.eval(_NOT_ENDED, 1, self.index, repr(prune), repr(prune), self.base)
        found = _parse_values([v for v in raw if v is not None])
        kept = [s for s in found if s.ends_at >= now - KEEP_ENDED]
        return sorted(kept, key=lambda s: (not s.active(now), -s.ends_at.timestamp()))

    def all_into(self, batch: Batch, now: datetime | None = None) -> Later[list[Silence]]:
        """The silences not ended at `now` (default: the real time), read on `batch` (a
        delivery's one read round trip), with any left in the old hash."""
        at = (now or datetime.now(UTC)).timestamp()
        prune = at - KEEP_ENDED.total_seconds()
        batch.pipe.eval(_NOT_ENDED, 1, self.index, repr(at), repr(prune), self.base)
        current = batch.later(lambda raw: [v for v in raw if v is not None])
        batch.pipe.hgetall(self.legacy)
        legacy = batch.later(lambda raw: list(raw.values()))
        return batch.later(lambda _: _parse_values([*current.get(), *legacy.get()]))

    def _migrate(self) -> None:
        """Move the silences of the old hash (earlier releases) into the self-expiring form."""
        raw = self.r.hgetall(self.legacy)
        if not raw:
            return
        for silence in _parse_all(raw):
            self._put(silence, datetime.now(UTC))
        self.r.delete(self.legacy)


def _parse_all(raw: Mapping[Any, Any]) -> list[Silence]:
    return _parse_values(list(raw.values()))


def _parse_values(values: list[Any]) -> list[Silence]:
    out = []
    for value in values:
        try:
            out.append(Silence.from_json(text(value)))
        except (ValueError, KeyError, TypeError):
            continue  # a record we cannot read mutes nothing
    return out


MAX_SILENCE = timedelta(days=366)
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def unknown_name(config: Config, provider: str | None, subscriber: str | None = None) -> str | None:
    """A provider or subscriber the subscription file does not know: likely a typo that
    would silence nothing ("no provider 'opnai' in the subscription file; did you mean
    'openai'?"). None when both are known. The CLI and the console ask the same."""
    providers = {p.id for p in config.providers}
    subscribers = {s.name for s in config.subscribers}
    for key, value, known in (("provider", provider, providers),
                              ("subscriber", subscriber, subscribers)):  # fmt: skip
        if value is not None and value not in known:
            match = closest(value, known)
            hint = f"; did you mean {match!r}?" if match else ""
            return f"no {key} {value!r} in the subscription file{hint}"
    return None


def parse_duration(value: str) -> timedelta:
    """`2h`, `90m`, `1d12h`, `45s` as a timedelta; ValueError for anything else, zero,
    or longer than MAX_SILENCE."""
    match = _DURATION.match(value.strip().lower())
    if not match or not any(match.groups()):
        raise ValueError(f"{value!r} is not a duration like 2h, 90m or 1d12h")
    if any(len(g or "") > 9 for g in match.groups()):
        raise ValueError(f"{value[:40]!r} is longer than a silence may last ({MAX_SILENCE.days}d)")
    d, h, m, s = (int(g or 0) for g in match.groups())
    took = timedelta(days=d, hours=h, minutes=m, seconds=s)
    if took <= timedelta(0):
        raise ValueError("a silence must last longer than zero")
    if took > MAX_SILENCE:
        raise ValueError(
            f"{value[:40]!r} is longer than a silence may last ({MAX_SILENCE.days}d); "
            "to stop hearing about a provider, take it out of the subscription file"
        )
    return took


def impact_now(
    incidents: Iterable[Incident], provider: str, component: str | None
) -> Impact | None:
    """The highest impact among the open incidents a silence with these matchers would
    select: what a silence made now is made for. None when none is open."""
    probe = Silence("", provider, "", "", datetime.min, datetime.min, component=component)
    found = [
        i.impact
        for i in incidents
        if i.is_active and probe.matches(i.provider, i.components, probe.subscriber or "")
    ]
    return max(found, key=lambda impact: impact.rank) if found else None


def make(
    provider: str,
    *,
    lasting: timedelta,
    reason: str,
    by: str,
    now: datetime,
    component: str | None = None,
    subscriber: str | None = None,
    any_impact: bool = False,
    open_incidents: Iterable[Incident] = (),
) -> Silence:
    """A new silence from now for `lasting`. Unless `any_impact`, it is made for the
    highest impact of the matching incidents open now, or `minor` when none is."""
    ceiling = None if any_impact else (impact_now(open_incidents, provider, component)
                                       or Impact.MINOR)  # fmt: skip
    return Silence(
        id=new_id(), provider=provider, created_by=by, reason=reason, starts_at=now,
        ends_at=now + lasting, component=component or None, subscriber=subscriber or None,
        max_impact=ceiling,
    )  # fmt: skip

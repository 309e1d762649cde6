"""Each provider's poll state (snapshot, validators, health) and the poll lease.

Keys (all under `prefix`):
- `{p}:provider:{id}` hash: `state` (ProviderState JSON), `version`, `etag`,
  `last_modified`, `body_hash`, `polled_at`, `outcome`, `ok_at` (the last successful
  poll), `changed_at` (the last poll whose document changed the snapshot),
  `recheck` ("1": the next poll must read the document in full, see
  `ProviderState.recheck`), `failures`, `unreachable`, `since`, `last_error`, `cause`,
  `index_due`.
- `{p}:provider:{id}:lock`: the poll lease (token, TTL). One poll per provider.
- `begin` also reads `{p}:generation` and `{p}:rebaseline` (`notifier.store.conn.generation`).
- `{p}:incidents`: a snapshot's write also updates the recent-incident index, in the
  same script (`notifier.store.feeds.incidents`).

Cost: `begin` is one round trip (lock + read, pipelined) and `finish`/`commit` is
one (a script that checks the lease, writes and releases), so an unchanged poll
costs one round trip after the conditional GET.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import redis

from notifier.models import iso, parse_iso
from notifier.store.conn.batch import text
from notifier.store.feeds.incidents import IndexWrites, index_key, index_writes
from notifier.store.feeds.snapshot import FeedHealth, ProviderState

LOCK_TTL = timedelta(minutes=2)

# Checks the lease (and the version when ARGV[2] is not empty), applies the writes,
# releases the lease. Returns the version, -1 when the lease was lost, -2 on conflict.
_APPLY = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -1 end
local v = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
local i = 3
if ARGV[2] ~= '' then
  if v ~= tonumber(ARGV[2]) then return -2 end
  v = v + 1
  redis.call('HSET', KEYS[1], 'version', v)
end
local function each(fn, width)
  local n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do fn(ARGV[i], ARGV[i + 1]); i = i + width end
end
each(function(a, b) redis.call('HSET', KEYS[1], a, b) end, 2)
each(function(a) redis.call('HDEL', KEYS[1], a) end, 1)
each(function(a, b) redis.call('HSET', KEYS[3], a, b) end, 2)
each(function(a) redis.call('HDEL', KEYS[3], a) end, 1)
redis.call('DEL', KEYS[2])
return v
"""


@dataclass(frozen=True, slots=True)
class Validators:
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


@dataclass
class Lease:
    """One poll's hold on a provider, with everything read before the fetch."""

    provider: str
    token: str
    version: int
    validators: Validators
    health: FeedHealth
    polled_at: datetime | None
    outcome: str | None
    raw_state: bytes | None
    index_due: datetime | None
    ok_at: datetime | None = None  # the last successful poll (fetched, maybe unchanged)
    recheck: bool = False  # an absence awaits confirmation: read the document in full
    # The generation marker was there (see notifier.store.conn.generation), and whether
    # this provider awaits a silent baseline after Redis lost its data.
    marked: bool = True
    rebaseline: bool = False
    _parsed: ProviderState | None = field(default=None, repr=False)

    def state(self) -> ProviderState | None:
        """The stored ProviderState, parsed on first use (unchanged polls never parse)."""
        if self._parsed is None and self.raw_state:
            self._parsed = ProviderState.from_json(self.raw_state)
        return self._parsed


class ProviderStore:
    """Per-provider poll state, written only under the provider's poll lease."""

    def __init__(self, redis: redis.Redis, prefix: str, lock_ttl: timedelta = LOCK_TTL) -> None:
        self.redis = redis
        self.prefix = prefix
        self.lock_ttl = lock_ttl
        self._apply = redis.register_script(_APPLY)

    # ---- keys ------------------------------------------------------------------

    def provider_key(self, provider: str) -> str:
        return f"{self.prefix}:provider:{provider}"

    # ---- the poll lease --------------------------------------------------------

    def begin(self, provider: str) -> Lease | None:
        """Take the provider's lease and read its state in one round trip; None if held."""
        token = secrets.token_hex(16)
        pipe = self.redis.pipeline(transaction=False)
        pipe.set(f"{self.provider_key(provider)}:lock", token, nx=True, px=self._ttl_ms())
        pipe.hgetall(self.provider_key(provider))
        pipe.exists(f"{self.prefix}:generation")
        pipe.sismember(f"{self.prefix}:rebaseline", provider)
        got, raw, marked, rebaseline = pipe.execute()
        if not got:
            return None
        h = {text(k): v for k, v in raw.items()}
        return Lease(
            provider=provider,
            token=token,
            version=int(text(h.get("version")) or 0),
            validators=Validators(
                text(h.get("etag")), text(h.get("last_modified")), text(h.get("body_hash"))
            ),
            health=FeedHealth(
                failures=int(text(h.get("failures")) or 0),
                unreachable=text(h.get("unreachable")) == "1",
                since=parse_iso(text(h.get("since"))),
                last_error=text(h.get("last_error")),
                cause=text(h.get("cause")),
            ),
            polled_at=parse_iso(text(h.get("polled_at"))),
            outcome=text(h.get("outcome")),
            raw_state=_bytes(h.get("state")),
            index_due=parse_iso(text(h.get("index_due"))),
            ok_at=parse_iso(text(h.get("ok_at"))),
            recheck=text(h.get("recheck")) == "1",
            marked=bool(marked),
            rebaseline=bool(rebaseline),
        )

    def finish(
        self,
        lease: Lease,
        *,
        now: datetime,
        outcome: str,
        validators: Validators | None = None,
        health: FeedHealth | None = None,
    ) -> bool:
        """Record a poll that changed no snapshot and release; False if the lease was lost."""
        index: IndexWrites | None = None
        state = lease.state() if lease.index_due and now >= lease.index_due else None
        if state is not None:
            index = index_writes(lease.provider, state, None, now)
        return self._write(lease, now, outcome, validators, health, None, index)

    def commit(
        self,
        lease: Lease,
        state: ProviderState,
        *,
        now: datetime,
        outcome: str,
        validators: Validators,
        health: FeedHealth,
    ) -> bool:
        """Store the new snapshot if nobody else did meanwhile (lease + version check)."""
        index = index_writes(lease.provider, state, lease.state(), now)
        return self._write(lease, now, outcome, validators, health, state, index)

    def save_state(self, lease: Lease, state: ProviderState) -> bool:
        """Store a snapshot changed outside a poll (a later history lookup) and release;
        the poll's own fields stay as they were. False if the lease was lost."""
        sets = {"state": state.to_json(), "recheck": "1" if state.recheck else "0"}
        return self._run(lease, [str(lease.version)], sets, [], {}, [])

    def merge(self, lease: Lease, state: ProviderState, now: datetime) -> bool:
        """Store a snapshot a push changed, with the incident index, and release; the
        poll's own fields (validators, health, `polled_at`) stay as they were."""
        iset, idel, due = index_writes(lease.provider, state, lease.state(), now)
        sets: dict[str, str | bytes] = {"state": state.to_json()}
        sets["recheck"] = "1" if state.recheck else "0"
        dels: list[str] = []
        _put(sets, dels, "index_due", iso(due))
        return self._run(lease, [str(lease.version)], sets, dels, iset, idel)

    def release(self, lease: Lease) -> bool:
        """Give the lease back without writing (a poll that failed unexpectedly)."""
        return self._run(lease, [], {}, [], {}, [])

    def _write(
        self,
        lease: Lease,
        now: datetime,
        outcome: str,
        validators: Validators | None,
        health: FeedHealth | None,
        state: ProviderState | None,
        index: IndexWrites | None,
    ) -> bool:
        sets: dict[str, str | bytes] = {"polled_at": iso(now) or "", "outcome": outcome}
        if outcome != "failed":
            sets["ok_at"] = iso(now) or ""
        dels: list[str] = []
        if validators is not None:
            _put(sets, dels, "etag", validators.etag)
            _put(sets, dels, "last_modified", validators.last_modified)
            _put(sets, dels, "body_hash", validators.body_hash)
        if health is not None:
            sets["failures"] = str(health.failures)
            sets["unreachable"] = "1" if health.unreachable else "0"
            _put(sets, dels, "since", iso(health.since))
            _put(sets, dels, "last_error", health.last_error)
            _put(sets, dels, "cause", health.cause)
        if state is not None:
            sets["state"] = state.to_json()
            sets["recheck"] = "1" if state.recheck else "0"
            sets["changed_at"] = iso(now) or ""
        iset: dict[str, str] = {}
        idel: list[str] = []
        if index is not None:
            iset, idel, due = index
            _put(sets, dels, "index_due", iso(due))
        cas = [str(lease.version)] if state is not None else [""]
        return self._run(lease, cas, sets, dels, iset, idel)

    def _run(
        self,
        lease: Lease,
        cas: list[str],
        sets: Mapping[str, str | bytes],
        dels: Sequence[str],
        iset: Mapping[str, str],
        idel: Sequence[str],
    ) -> bool:
        args: list[Any] = [lease.token, *(cas or [""])]
        args += [len(sets), *(x for kv in sets.items() for x in kv)]
        args += [len(dels), *dels, len(iset), *(x for kv in iset.items() for x in kv)]
        args += [len(idel), *idel]
        key = self.provider_key(lease.provider)
        result = self._apply(keys=[key, f"{key}:lock", index_key(self.prefix)], args=args)
        return int(result) >= 0

    def _ttl_ms(self) -> int:
        return int(self.lock_ttl.total_seconds() * 1000)

    # ---- reading provider state (CLI, tests) -----------------------------------

    def load_state(self, provider: str) -> ProviderState | None:
        raw = self.redis.hget(self.provider_key(provider), "state")
        return ProviderState.from_json(raw) if raw else None

    def overview(
        self, providers: Sequence[str]
    ) -> dict[str, tuple[dict[str, str], ProviderState | None]]:
        """Each provider's hash (as `status` gives it) and snapshot, in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for provider in providers:
            pipe.hgetall(self.provider_key(provider))
        out = {}
        for provider, raw in zip(providers, pipe.execute() if providers else [], strict=True):
            h = {text(k) or "": v for k, v in raw.items()}
            state = ProviderState.from_json(h["state"]) if h.get("state") else None
            out[provider] = ({k: text(v) or "" for k, v in h.items() if k != "state"}, state)
        return out

    def status(self, provider: str) -> dict[str, str]:
        """The provider hash without the snapshot: last poll, outcome, validators, health."""
        raw = self.redis.hgetall(self.provider_key(provider))
        return {text(k) or "": text(v) or "" for k, v in raw.items() if text(k) != "state"}


def _put(sets: dict[str, str | bytes], dels: list[str], name: str, value: str | None) -> None:
    if value is None:
        dels.append(name)
    else:
        sets[name] = value


def _bytes(value: object) -> bytes | None:
    if value is None:
        return None
    return value if isinstance(value, bytes) else str(value).encode()


__all__ = ["LOCK_TTL", "Lease", "ProviderStore", "Validators"]

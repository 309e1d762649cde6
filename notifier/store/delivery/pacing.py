"""Pauses a vendor asked for, shared by every worker.

When Slack or Twilio answers 429 (or any error with a Retry-After), that channel is
paused for the time asked: `<prefix>:pause:<channel>` holds the end, as epoch
seconds. Until then no worker calls the vendor for that channel; a delivery that
finds the pause waits (`NotYet`, which does not use up its retry budget) until a
moment spread over one more pause-length, so a fan-out held back by a rate limit
comes back as a trickle rather than one burst that is refused again.

The same `Pacing` keeps us inside the vendors' documented limits before they say so:
a token bucket per destination (a Slack channel, an SMS sending number), and pauses
scoped to what a 429 limited (one channel, one API method) so the other destinations
go on. One class writes every pause key, so each path sees the others' pauses.

A channel states the turn a send to a target takes (`Channel.turn`), so delivery can take
it in the round trip that marks the request in flight (`take_into`) and hand its answer
to the channel's own `take` (`ahead`): one round trip fewer before the vendor request,
and the channel still decides what paces it.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import redis

from notifier.httpwait import bounded
from notifier.store.conn.batch import Batch, Later, Pipe, read_now, writing


def wait_for(until: float, now: datetime) -> float | None:
    """Seconds a delivery should wait for a pause ending at `until`; None if it is over."""
    remaining = until - now.timestamp()
    if remaining <= 0:
        return None
    return remaining + random.uniform(0, remaining)


@dataclass(frozen=True, slots=True)
class Rate:
    """A destination's documented limit: `per_second` sends, `burst` of them at once."""

    per_second: float
    burst: int


@dataclass(frozen=True, slots=True)
class Turn:
    """What a send takes before it goes: a token of `destination`'s bucket, at `rate`,
    unless one of the scopes `paused_by` is paused."""

    destination: str
    rate: Rate
    paused_by: tuple[str, ...] = ()


class _Ahead(threading.local):
    """The turn a delivery took ahead on this thread, and its answer, until its send
    asks for it (`Pacing.take`) or the delivery moves on (`Pacing.ahead` ends)."""

    prefix: str | None = None
    turn: Turn | None = None
    wait: Later[float | None] | None = None


_AHEAD = _Ahead()


# KEYS[1] the destination's bucket (hash t = tokens, ts = when counted), KEYS[2..] pauses
# (epoch seconds, as `Pacing.pause` writes); ARGV: now, per second, burst.
# Returns nil when a send may go now (its token is taken), else the seconds to wait,
# as a string (Redis turns a Lua number into an integer).
_TAKE = """
local now, rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local wait = 0
for i = 2, #KEYS do
  local untl = tonumber(redis.call('get', KEYS[i]) or '0')
  if untl - now > wait then wait = untl - now end
end
if wait > 0 then return tostring(wait) end
local b = redis.call('hmget', KEYS[1], 't', 'ts')
local tokens, ts = tonumber(b[1]) or burst, tonumber(b[2]) or now
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate); ts = now end
if tokens < 1 then return tostring((1 - tokens) / rate) end
redis.call('hset', KEYS[1], 't', tostring(tokens - 1), 'ts', tostring(ts))
redis.call('pexpire', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return false
"""


def _glob_literal(text: str) -> str:
    """`text` matched literally by a SCAN pattern (a prefix may hold `*`, `?` or `[`)."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


class Pacing:
    """The one pause mechanism, shared by every worker: the pauses a vendor asked for
    and a token bucket per destination (a Slack channel, a sending number).

    A pause has a scope: a whole channel (`slack`, written by delivery after a vendor's
    Retry-After), or what a 429 limited (one Slack channel, one API method, one target),
    written by the channel or `targets.send_paced`. `pause` is the one writer of
    `<prefix>:pause:<scope>` (the end, as epoch seconds); `paused`, `pauses_into` and
    `take` read it, so a pause one path sets holds the others back too.

    `take` keeps us inside the vendors' documented limits before they say so: one round
    trip per send, and concurrent workers can never overshoot. `clock` is epoch seconds
    (time.time): buckets are shared between machines, so their clocks are what counts;
    a clock behind another's never mints tokens."""

    def __init__(
        self, client: redis.Redis, prefix: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.client, self.prefix, self.clock = client, prefix, clock
        self._take = client.register_script(_TAKE)

    def _key(self, scope: str) -> str:
        return f"{self.prefix}:pause:{scope}"

    def pause(
        self, scope: str, seconds: float, now: datetime | None = None, pipe: Pipe | None = None
    ) -> None:
        """Pause `scope` for `seconds` from `now` (default: the clock), as a vendor's
        Retry-After asked (finite, 15 minutes at most: it is untrusted). On `pipe` the
        write is only queued."""
        seconds = bounded(seconds) or 0.0
        until = (self.clock() if now is None else now.timestamp()) + seconds
        with writing(self.client, pipe) as pipe:
            pipe.set(self._key(scope), f"{until:.3f}", px=max(1, int(seconds * 1000)))

    def pauses_into(self, batch: Batch, scopes: Sequence[str]) -> Later[dict[str, float]]:
        """When each paused scope may be called again (epoch seconds)."""
        names = list(scopes)
        # MGET needs a key; with no scopes, ask for one that is never set.
        batch.pipe.mget([self._key(c) for c in names] or [self._key("-")])
        return batch.later(
            lambda raw: {c: float(v) for c, v in zip(names, raw, strict=False) if v is not None}
        )

    def paused(self, scopes: Sequence[str], now: datetime) -> dict[str, datetime]:
        """The scopes paused at `now`, with when each may be called again."""
        until = read_now(self.client, lambda batch: self.pauses_into(batch, scopes))
        return {c: datetime.fromtimestamp(t, UTC) for c, t in until.items() if t > now.timestamp()}

    def every_pause(self, now: datetime) -> dict[str, datetime]:
        """Every scope paused at `now`, whole channels and single targets alike (an
        operator's view: it walks the pause keys, which expire with their pauses)."""
        head = len(self._key(""))
        scopes = sorted(
            key[head:] if isinstance(key, str) else key.decode()[head:]
            for key in self.client.scan_iter(match=_glob_literal(self._key("")) + "*", count=500)
        )
        return self.paused(scopes, now) if scopes else {}

    def take(self, destination: str, rate: Rate, paused_by: Sequence[str] = ()) -> float | None:
        """Take a send for `destination`: None when it may go now, else the seconds until
        it may (its bucket is empty, or one of the scopes `paused_by` is paused). The
        answer of the same turn taken ahead on this thread (`ahead`), if there is one:
        it was taken once, and is used once."""
        turn = Turn(destination, rate, tuple(paused_by))
        if _AHEAD.turn == turn and _AHEAD.prefix == self.prefix and _AHEAD.wait is not None:
            wait, _AHEAD.turn, _AHEAD.wait = _AHEAD.wait.get(), None, None
            return wait
        keys, args = self._take_parts(turn)
        return _waited(self._take(keys=keys, args=args))

    def _take_parts(self, turn: Turn) -> tuple[list[str], list[str | float]]:
        keys = [f"{self.prefix}:pace:{turn.destination}", *map(self._key, turn.paused_by)]
        return keys, [f"{self.clock():.6f}", turn.rate.per_second, turn.rate.burst]

    def take_into(self, batch: Batch, turn: Turn) -> Later[float | None]:
        """Queue taking `turn` on `batch` (the answer `take` gives). EVAL, not the
        registered script: a script on a pipeline asks SCRIPT EXISTS first, a round
        trip of its own."""
        keys, args = self._take_parts(turn)
        batch.pipe.eval(_TAKE, len(keys), *keys, *args)
        return batch.later(_waited)

    @contextmanager
    def ahead(self, turn: Turn | None, wait: Later[float | None] | None) -> Iterator[None]:
        """Within the block, this thread's `take` of `turn` answers `wait` (taken ahead,
        `take_into`) once, with no round trip. A turn taken ahead and not asked for is
        not given back: the destination is paced as if it had been sent."""
        _AHEAD.prefix, _AHEAD.turn, _AHEAD.wait = self.prefix, turn, wait
        try:
            yield
        finally:
            _AHEAD.prefix, _AHEAD.turn, _AHEAD.wait = None, None, None


def _waited(reply: object) -> float | None:
    """The take script's reply: None (it may go now), else the seconds to wait."""
    if reply is None:
        return None
    return max(0.001, float(reply.decode() if isinstance(reply, bytes) else str(reply)))

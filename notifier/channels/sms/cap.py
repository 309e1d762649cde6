"""The per-number SMS rate cap: at most `limit` messages in any sliding `window`.

Each number keeps a Redis sorted set of its send times (`<prefix>:sms:rate:<number>`).
One Lua call trims times older than the window, counts the rest and takes a slot
if one is free, so concurrent workers can never overshoot. A slot whose send then
fails is released. The clock is passed in, like everywhere in paging.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import redis

# Added to the last message a number may get before the cap holds the rest back.
CAP_NOTICE = ". SMS cap hit: more held back"

# KEYS[1] the number's sorted set; ARGV: now ms, window ms, limit, member.
# Returns the slot taken (1..limit), or 0 when the number is at its cap.
_TAKE_SLOT = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('zremrangebyscore', KEYS[1], '-inf', now - window)
local count = redis.call('zcard', KEYS[1])
if count >= limit then return 0 end
redis.call('zadd', KEYS[1], now, ARGV[4])
redis.call('pexpire', KEYS[1], window + 60000)
return count + 1
"""


@dataclass(frozen=True, slots=True)
class Slot:
    key: str
    member: str
    last: bool  # the last one the window allows: say further messages are held back


class SmsRateCap:
    def __init__(self, client: redis.Redis, prefix: str, limit: int, window: timedelta) -> None:
        self.r, self.prefix, self.limit, self.window = client, prefix, limit, window
        self._take = client.register_script(_TAKE_SLOT)

    def take(self, number: str, now: datetime) -> Slot | None:
        """A send slot for `number` at `now`, or None when it is at its cap."""
        key = f"{self.prefix}:sms:rate:{number}"
        member = f"{now.timestamp():.6f}:{secrets.token_hex(4)}"
        window_ms = int(self.window.total_seconds() * 1000)
        args: list[int | str] = [int(now.timestamp() * 1000), window_ms, self.limit, member]
        slot = int(self._take(keys=[key], args=args))
        return Slot(key, member, slot == self.limit) if slot else None

    def release(self, slot: Slot) -> None:
        """Give back a slot whose message did not reach the phone."""
        self.r.zrem(slot.key, slot.member)


def mask(number: str) -> str:
    """A phone number for logs and records: only its last 4 digits (`***0001`)."""
    return "***" + number[-4:] if len(number) > 4 else "***"

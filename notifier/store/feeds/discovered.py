"""What discovery found, remembered per provider: the feed, its moves, its components.

Keys (under the prefix): `discovered:<id>` a hash {page, url, format, platform, at};
`discovered:<id>:moves` the last moves, newest first, as JSON; `components:<id>` the
set of component names the feed has ever listed (capped), for filters and `config check`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import redis

MAX_MOVES = 20
MAX_COMPONENTS = 1000
# Every poll reports its components: one round trip, not a count and then an add.
_SAW = """
if redis.call('SCARD', KEYS[1]) < tonumber(ARGV[1]) then
  return redis.call('SADD', KEYS[1], unpack(ARGV, 2))
end
return 0
"""


@dataclass(frozen=True, slots=True)
class Remembered:
    page: str
    url: str
    format: str
    platform: str
    at: str  # ISO time of the discovery


@dataclass(frozen=True, slots=True)
class Move:
    at: str
    old: str
    new: str
    why: str


class DiscoveredStore:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.r = client
        self.prefix = prefix
        self._saw = client.register_script(_SAW)

    def _key(self, provider: str) -> str:
        return f"{self.prefix}:discovered:{provider}"

    def get(self, provider: str, page: str) -> Remembered | None:
        """The feed remembered for `provider`, if it was found behind this same page."""
        raw = self.r.hgetall(self._key(provider))
        if not raw:
            return None
        d = {_s(k): _s(v) for k, v in raw.items()}
        if d.get("page") != page or not d.get("url"):
            return None
        return Remembered(d["page"], d["url"], d.get("format", "auto"), d.get("platform", ""),
                          d.get("at", ""))  # fmt: skip

    def remember(
        self, provider: str, found: Remembered, now: datetime, why: str = ""
    ) -> Move | None:
        """Store `found`; a different URL than before is a move, recorded and returned."""
        before = self.get(provider, found.page)
        pipe = self.r.pipeline()
        pipe.hset(self._key(provider), mapping={
            "page": found.page, "url": found.url, "format": found.format,
            "platform": found.platform, "at": now.isoformat(),
        })  # fmt: skip
        move = None
        if before is not None and before.url != found.url:
            move = Move(now.isoformat(), before.url, found.url, why)
            moves = f"{self._key(provider)}:moves"
            pipe.lpush(moves, json.dumps({"at": move.at, "old": move.old, "new": move.new,
                                          "why": move.why}))  # fmt: skip
            pipe.ltrim(moves, 0, MAX_MOVES - 1)
        pipe.execute()
        return move

    def found_nothing(self, provider: str, wait_s: int) -> None:
        """Discovery found no feed: do not search again for `wait_s` seconds (it costs the
        vendor several requests, and a page with no feed would be searched every poll)."""
        self.r.set(f"{self._key(provider)}:in-vain", b"1", ex=wait_s)

    def searched_in_vain(self, provider: str) -> bool:
        return bool(self.r.exists(f"{self._key(provider)}:in-vain"))

    def moves(self, provider: str, limit: int = 5) -> list[Move]:
        out = []
        for raw in self.r.lrange(f"{self._key(provider)}:moves", 0, limit - 1):
            d = json.loads(raw)
            out.append(Move(d["at"], d["old"], d["new"], d.get("why", "")))
        return out

    def saw_components(self, provider: str, names: Iterable[str]) -> None:
        key = f"{self.prefix}:components:{provider}"
        names = list(names)
        if names:  # at most the cap at once (Lua's unpack has a limit of its own)
            self._saw(keys=[key], args=[MAX_COMPONENTS, *names[:MAX_COMPONENTS]])

    def components(self, provider: str) -> set[str]:
        return {_s(n) for n in self.r.smembers(f"{self.prefix}:components:{provider}")}


def _s(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value

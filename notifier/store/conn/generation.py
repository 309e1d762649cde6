"""The generation marker: evidence that this Redis still holds what the service wrote.

A Redis restarted without its data (no AOF, a new instance) looks like a first start,
and a first poll alerts on every open incident: everything already sent would be sent
again. The marker tells the two apart. It is written once, at the service's first
start, and remembered outside Redis (by each running process, and in a file under the
data dir); when it is missing where it was known, Redis lost its data.

Keys (all under `prefix`):
- `{p}:generation` hash: `id` (random), `born` (ISO time), `lost` (ISO time of the
  loss it was re-created after, or '').
- `{p}:rebaseline` set: providers whose next first poll is a silent baseline.
"""

from __future__ import annotations

import contextlib
import secrets
from datetime import datetime
from pathlib import Path

import redis

from notifier.models import iso
from notifier.store.conn.batch import text

# Creates the marker unless one exists; with providers, marks each for a silent
# baseline in the same step, so no poll ever sees the one without the other.
# Returns 1 when this call created it, else 0.
_CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'born', ARGV[2], 'lost', ARGV[3])
for i = 4, #ARGV do redis.call('SADD', KEYS[2], ARGV[i]) end
return 1
"""

FILE_NAME = "generation"


class Generation:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.key = f"{prefix}:generation"
        self.rebaseline_key = f"{prefix}:rebaseline"
        self._create = client.register_script(_CREATE)

    def current(self) -> str | None:
        """The marker's id; None when this Redis has none."""
        return text(self.client.hget(self.key, "id"))

    def create(self, now: datetime) -> bool:
        """Write the marker of a first start; False if one exists already."""
        return self._run(now, lost=False, providers=())

    def declare_lost(self, providers: list[str], now: datetime) -> bool:
        """Redis lost its data: write a new marker and mark every provider for a silent
        baseline, atomically. True for the one caller that did it (of many racing)."""
        return self._run(now, lost=True, providers=providers)

    def rebaselined(self, provider: str) -> None:
        """`provider` has its baseline again: its later first polls are ordinary."""
        self.client.srem(self.rebaseline_key, provider)

    def _run(self, now: datetime, *, lost: bool, providers: tuple[str, ...] | list[str]) -> bool:
        stamp = iso(now) or ""
        args = [secrets.token_hex(8), stamp, stamp if lost else "", *providers]
        return bool(self._create(keys=[self.key, self.rebaseline_key], args=args))


def remembered(data_dir: Path) -> str | None:
    """The marker id this host last saw (`NOTIFIER_DATA_DIR/generation`), if any."""
    try:
        return (data_dir / FILE_NAME).read_text().strip() or None
    except OSError:
        return None


def remember(data_dir: Path, generation_id: str) -> None:
    """Keep the id outside Redis; a data dir we may not write only loses that memory."""
    with contextlib.suppress(OSError):
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / FILE_NAME).write_text(generation_id + "\n")

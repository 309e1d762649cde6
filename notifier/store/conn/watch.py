"""What this process has heard of the Redis primary: `WATCH` hears every primary the
sentinels name (each new connection asks) and logs a change once, at WARNING, and the
first moment no primary is known.
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("notifier.redis")


class PrimaryWatch:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.current: dict[str, str] = {}
        self.changed_at: dict[str, float] = {}
        self.missing_since: dict[str, float] = {}

    def saw(self, master: str, address: str) -> None:
        with self._lock:
            before = self.current.get(master)
            missing = self.missing_since.pop(master, None)
            if before == address:
                return
            self.current[master] = address
            self.changed_at[master] = time.time()
        if before is not None:
            gap = f" after {time.monotonic() - missing:.1f} s without one" if missing else ""
            log.warning(
                "Redis failover: the primary of %r is now %s (was %s)%s",
                master, address, before, gap,
            )  # fmt: skip

    def lost(self, master: str) -> None:
        with self._lock:
            first = master not in self.missing_since
            if first:
                self.missing_since[master] = time.monotonic()
        if first:
            log.warning("Redis: the sentinels know no primary of %r; waiting for one", master)


WATCH = PrimaryWatch()

"""Signs of life: the beat's heartbeat on its ticks, each worker's from a thread of its
own (so it goes on while tasks run, and stops when the process freezes or dies).

A heartbeat that cannot be written (Redis away) is a warning, never a crash: the
process's own reconnection or `notifier run`'s watch on Redis deals with that.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import suppress
from datetime import UTC, datetime

import redis

from notifier.config.settings import get_settings
from notifier.pipeline.runtime.health import TICKS
from workers.process_state import heartbeats

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class BeatPulse:
    """Called on every beat tick; writes at most once per heartbeat interval."""

    def __init__(self) -> None:
        self._last = float("-inf")

    def tick(self) -> None:
        interval = get_settings().heartbeat_interval
        if time.monotonic() - self._last < interval:
            return
        try:
            heartbeats().beat(_now())
        except (redis.RedisError, OSError) as exc:
            log.warning("beat heartbeat not written: %s", type(exc).__name__)
            return
        self._last = time.monotonic()


class WorkerPulse:
    """A daemon thread writing this worker's heartbeat every interval until `stop()`."""

    def __init__(self, hostname: str) -> None:
        self.hostname = hostname
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> WorkerPulse:
        self._thread.start()
        return self

    def _run(self) -> None:
        interval = get_settings().heartbeat_interval
        while True:
            try:
                heartbeats().worker(self.hostname, _now(), expire_after=TICKS * interval)
            except (redis.RedisError, OSError) as exc:
                log.warning("worker heartbeat not written: %s", type(exc).__name__)
            if self._stop.wait(interval):
                return

    def stop(self) -> None:
        """Stop, and say at once that this worker is gone (a clean shutdown)."""
        self._stop.set()
        self._thread.join(timeout=5)
        with suppress(redis.RedisError, OSError):  # else it fades out after 3 intervals
            heartbeats().worker_gone(self.hostname)

"""Beat entries: the one-second tick that starts due polls and probes and merges
webhook pushes, plus housekeeping.

Polls are not beat entries of their own: how often a provider is polled changes at
run time (adaptive polling, a 429's Retry-After, a push asking for a reconciling
poll), so the tick reads who is due from Redis (`notifier.pipeline.ingest.tick`).
Built when beat sets up its scheduler, never when the app is imported.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

import redis
from redbeat import RedBeatScheduler

from notifier.config.load import Config
from notifier.pipeline.ingest import data_loss
from notifier.store.conn.connect import connect
from notifier.store.conn.generation import Generation, remembered
from workers.heartbeat import BeatPulse
from workers.process_state import loaded

log = logging.getLogger(__name__)
# While Redis does not answer (a stall, a restart), the beat retries this often.
OUTAGE_RETRY_S = 1.0

Entry = dict[str, Any]  # a Celery beat_schedule entry


TICK_S = 1.0  # notifier.pipeline.ingest.tick.EARLY is half of it
HISTORY_DRAIN_S = 5.0


def beat_schedule(config: Config) -> dict[str, Entry]:
    # Every second: pushes are merged within a second of arriving, and a provider is
    # polled within a second of its (adaptive) time. A tick still queued when the next
    # is due is superseded by it.
    schedule: dict[str, Entry] = {
        "tick": {"task": "notifier.tick", "schedule": TICK_S, "options": {"expires": TICK_S}}
    }
    # Backoff starts at a few seconds, so retries are swept every second; a sweep
    # still queued when the next is due is superseded by it.
    schedule["release-retries"] = {
        "task": "notifier.release_retries",
        "schedule": 1.0,
        "options": {"expires": 1.0},
    }
    schedule["release-held"] = {"task": "notifier.release_held", "schedule": 30.0}
    schedule["escalate"] = {"task": "notifier.escalate", "schedule": 15.0}
    schedule["reconcile"] = {"task": "notifier.reconcile", "schedule": 60.0}
    schedule["digests"] = {"task": "notifier.digests", "schedule": 60.0}
    # incidents resolved on absence: look for the provider's final words again
    schedule["final-lookups"] = {"task": "notifier.final_lookups", "schedule": 60.0}
    # The history outbox into the database; a drain still queued when the next is due is
    # superseded by it. Retention once an hour.
    schedule["history-drain"] = {
        "task": "notifier.history_drain",
        "schedule": HISTORY_DRAIN_S,
        "options": {"expires": HISTORY_DRAIN_S},
    }
    schedule["history-sweep"] = {"task": "notifier.history_sweep", "schedule": 3600.0}
    # Finished alerts past NOTIFIER_ALERT_PAYLOAD_DAYS shrink to their markers.
    schedule["alerts-shrink"] = {"task": "notifier.alerts_shrink", "schedule": 600.0}
    return schedule


class Scheduler(RedBeatScheduler):
    """redbeat's scheduler, with the schedule built from the subscription file when
    beat starts (standalone or embedded in a worker), before redbeat stores it, and a
    heartbeat on its ticks (`workers.heartbeat`).

    It outlives Redis trouble, where redbeat's own tick would end the process: a Redis
    that does not answer (a stall, a restart) is waited out, one tick a second; a lock
    that lapsed meanwhile is taken again, or, when another beat took it, waited for as a
    standby; a Redis that comes back without its data gets the schedule stored again,
    after the loss is declared (`notifier.pipeline.ingest.data_loss`), so no poll runs first."""

    _pulse: BeatPulse
    _generation: str | None = None
    _outage_since: float | None = None
    _standby = False
    _client: redis.Redis | None = None
    _built_for: int  # the config generation the schedule was built from

    def setup_schedule(self) -> None:
        ctx = loaded()
        self.app.conf.beat_schedule = beat_schedule(ctx.config)
        self._built_for = ctx.generation
        self._pulse = BeatPulse()
        self._generation = self._check_generation(remembered(loaded().settings.data_dir))
        super().setup_schedule()

    def tick(self, *args: Any, **kwargs: Any) -> float:
        """redbeat's tick, then the heartbeat: only the beat holding the lock ticks, so
        the heartbeat says that polls are being scheduled, not merely that a beat lives.
        After a reload, the polls follow the new file's providers and intervals."""
        try:
            if not self._hold_lock():
                return float(self.max_interval)
            seen = self._check_generation(self._generation)
            if seen != self._generation:
                log.info("beat: Redis lost its data; storing the schedule again")
                self._generation = seen
                super().setup_schedule()
            self._follow_reload()
            interval: float = super().tick(*args, **kwargs)
        except redis.exceptions.LockError:
            # It lapsed while Redis (or this process) stood still: another beat may hold
            # it now. Take it again on the next tick, or wait for it.
            log.warning("beat: lost the lock (Redis or this process stalled); taking it again")
            self._standby = True
            return OUTAGE_RETRY_S
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            if self._outage_since is None:
                self._outage_since = time.monotonic()
                log.warning("beat: Redis does not answer (%s); waiting for it",
                            type(exc).__name__)  # fmt: skip
            return OUTAGE_RETRY_S
        if self._outage_since is not None:
            log.warning("beat: Redis answers again after %.0f s; scheduling resumes",
                        time.monotonic() - self._outage_since)  # fmt: skip
            self._outage_since = None
        self._pulse.tick()
        return interval

    def _hold_lock(self) -> bool:
        """True while this beat holds the lock (after taking it again, if it lapsed)."""
        if not self._standby or self.lock is None:
            return True
        if not self.lock.acquire(blocking=False):
            return False  # another beat is active: stand by
        log.warning("beat: holds the lock again")
        self._standby = False
        return True

    def _check_generation(self, seen: str | None) -> str | None:
        ctx = loaded()
        if self._client is None:
            self._client = connect(ctx.redis_url, socket_timeout=5)
        gen = Generation(self._client, ctx.settings.key_prefix)
        ids = [p.id for p in ctx.config.resolved_providers()]
        return data_loss.check(gen, seen, ids, datetime.now(UTC), ctx.settings.data_dir)

    def _follow_reload(self) -> None:
        ctx = loaded()
        ctx.refresh()
        if ctx.generation == self._built_for:
            return
        self._built_for = ctx.generation
        self.app.conf.beat_schedule = beat_schedule(ctx.config)
        # redbeat's own set-up drops the entries of providers no longer watched.
        RedBeatScheduler.setup_schedule(self)

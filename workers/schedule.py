"""Beat entries: one poll per provider at its own interval, plus housekeeping.

Built when beat sets up its scheduler, from the subscription file loaded then,
never when the app is imported.
"""

from __future__ import annotations

from typing import Any

from redbeat import RedBeatScheduler

from notifier.config.load import Config
from workers.context import context
from workers.pulse import BeatPulse

Entry = dict[str, Any]  # a Celery beat_schedule entry


def poll_entries(config: Config) -> dict[str, Entry]:
    return {
        f"poll:{p.id}": {
            "task": "notifier.poll",
            "schedule": float(p.poll_interval),
            "args": (p.id,),
            # A poll older than its interval is stale: the next one supersedes it.
            "options": {"queue": "poll", "expires": float(p.poll_interval)},
        }
        for p in config.resolved_providers()
    }


def beat_schedule(config: Config) -> dict[str, Entry]:
    schedule = poll_entries(config)
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
    return schedule


class Scheduler(RedBeatScheduler):
    """redbeat's scheduler, with the schedule built from the subscription file when
    beat starts (standalone or embedded in a worker), before redbeat stores it, and a
    heartbeat on its ticks (`workers.pulse`)."""

    _pulse: BeatPulse

    def setup_schedule(self) -> None:
        self.app.conf.beat_schedule = beat_schedule(context().config)
        self._pulse = BeatPulse()
        super().setup_schedule()

    def tick(self, *args: Any, **kwargs: Any) -> float:
        """redbeat's tick, then the heartbeat: only the beat holding the lock ticks, so
        the heartbeat says that polls are being scheduled, not merely that a beat lives."""
        interval: float = super().tick(*args, **kwargs)
        self._pulse.tick()
        return interval

"""Beat entries: one poll per provider at its own interval, plus housekeeping."""

from __future__ import annotations

from typing import Any

from notifier.config.load import ConfigError, load_config
from notifier.config.settings import Settings


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    try:
        config = load_config(settings.config_path())
    except ConfigError as exc:  # the errors already name the file and line
        raise SystemExit(str(exc)) from None
    schedule: dict[str, dict[str, Any]] = {
        f"poll:{p.id}": {
            "task": "notifier.poll",
            "schedule": float(p.poll_interval),
            "args": (p.id,),
            # A poll older than its interval is stale: the next one supersedes it.
            "options": {"queue": "poll", "expires": float(p.poll_interval)},
        }
        for p in config.resolved_providers()
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
    return schedule

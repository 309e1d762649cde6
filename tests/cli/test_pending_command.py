"""`notifier pending` shows what is waiting, and until when."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis

from notifier.cli.pending import render, report
from notifier.store.delivery.dueset import DueSet
from notifier.store.delivery.pacing import Pacing
from notifier.store.delivery.retries import RetryQueue
from tests.support.cli import run_notifier

NOW = datetime(2024, 12, 26, 19, 5, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def _fill(client: redis.Redis, prefix: str) -> None:
    client.rpush(f"{prefix}:celery:deliver", "m1", "m2")
    RetryQueue(client, prefix).schedule(["ev1/ops/slack"], 3, NOW + timedelta(seconds=40))
    DueSet(client, f"{prefix}:due:held").add("ev2/ops/sms", NOW + timedelta(hours=9))
    DueSet(client, f"{prefix}:due:undelivered").add("ev1/ops/slack", NOW + timedelta(minutes=30))
    pipe = client.pipeline()
    Pacing(client, prefix).pause("slack", 30, NOW, pipe)
    pipe.execute()


def test_it_lists_queues_pauses_retries_and_holds_with_their_times(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    _fill(redis_client, key_prefix)
    found = report(redis_client, key_prefix, f"{key_prefix}:celery:", NOW + timedelta(seconds=5))
    assert found["queues"] == {"poll": 0, "page": 0, "deliver": 2}
    assert found["paused"] == {"slack": "2024-12-26T19:05:30Z"}
    assert found["retrying"] == {
        "count": 1,
        "next": [{"item": "ev1/ops/slack", "attempt": 3, "due": "2024-12-26T19:05:40Z"}],
    }
    assert found["held"]["next"] == [{"item": "ev2/ops/sms", "due": "2024-12-27T04:05:00Z"}]
    assert (found["escalations"]["count"], found["unprocessed"], found["undelivered"]) == (0, 0, 1)
    text = render(found)
    assert "slack until 2024-12-26T19:05:30Z" in text
    assert "2024-12-26T19:05:40Z  attempt 3  ev1/ops/slack" in text

    later = report(redis_client, key_prefix, f"{key_prefix}:celery:", NOW + timedelta(minutes=1))
    assert later["paused"] == {}  # the pause is over
    paused_line = next(x for x in render(later).splitlines() if x.startswith("paused"))
    assert paused_line == "paused        nothing: no vendor asked us to slow down"


def test_the_command_prints_json(redis_url: str, key_prefix: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env.update(NOTIFIER_REDIS_URL=redis_url, NOTIFIER_KEY_PREFIX=key_prefix,
               NOTIFIER_DATA_DIR=str(tmp_path))  # fmt: skip
    done = run_notifier(["pending", "--json"], env=env)
    done.check_returncode()
    found = json.loads(done.stdout)
    assert found["retrying"] == {"count": 0, "next": []} and found["paused"] == {}


def test_the_command_lists_a_pause_of_every_channel_kind(
    redis_client: redis.Redis, redis_url: str, key_prefix: str, tmp_path: Path
) -> None:
    # Pauses of channels beyond Slack, SMS and email, as a vendor's 429 leaves them.
    pipe = redis_client.pipeline()
    now = datetime.now(UTC)
    for channel in ("pagerduty", "opsgenie", "webhook", "apprise"):
        Pacing(redis_client, key_prefix).pause(channel, 600, now, pipe)
    pipe.execute()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env.update(NOTIFIER_REDIS_URL=redis_url, NOTIFIER_KEY_PREFIX=key_prefix,
               NOTIFIER_DATA_DIR=str(tmp_path))  # fmt: skip
    done = run_notifier(["pending", "--json"], env=env)
    done.check_returncode()
    assert set(json.loads(done.stdout)["paused"]) == {"pagerduty", "opsgenie", "webhook", "apprise"}
    listed = run_notifier(["pending"], env=env)
    listed.check_returncode()
    text = listed.stdout
    paused = next(x for x in text.splitlines() if x.startswith("paused"))
    assert all(f"{c} until" in paused for c in ("pagerduty", "opsgenie", "webhook", "apprise"))


def test_it_lists_a_paused_target_beside_the_paused_channels(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    # A 429 from one subscriber's webhook pauses that target alone (pipeline.delivery.targets),
    # and Slack scopes its own to one Slack channel: both are waiting, so both are listed.
    pacing = Pacing(redis_client, key_prefix)
    pacing.pause("webhook:target:ops-receiver", 120, NOW)
    pacing.pause("slack:channel:C0123", 60, NOW)
    Pacing(redis_client, f"{key_prefix}-other").pause("email", 60, NOW)  # another deployment
    found = report(redis_client, key_prefix, f"{key_prefix}:celery:", NOW + timedelta(seconds=5))
    assert found["paused"] == {
        "slack:channel:C0123": "2024-12-26T19:06:00Z",
        "webhook:target:ops-receiver": "2024-12-26T19:07:00Z",
    }
    assert "webhook:target:ops-receiver until 2024-12-26T19:07:00Z" in render(found)

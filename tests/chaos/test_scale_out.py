"""Scale-out on one Redis: two `notifier worker` processes (their own hostnames) and one
`notifier beat` share the polling and a 400-alert fan-out; killing one worker in the
middle of it loses no alert and posts none twice (the fake Slack counts the posts of
each channel: one subscriber a channel, one alert each)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from notifier.config.settings import Settings
from tests.chaos.harness import (
    FEED_PATH,
    OwnedRedis,
    PeerSlack,
    Script,
    Service,
    alert_tasks,
    local_tcp_ports,
    slack_posts,
)
from tests.support.feed_server import FeedServer
from tests.support.local import ALLOW_ENV
from tests.support.served import wait_for
from tests.support.statuspage_docs import summary_json

pytestmark = pytest.mark.chaos
FAN_OUT = 400
# The tasks that post: planning is over before the kill, and this fleet runs no page
# worker for escalations (nobody here is paged).
SENDS = frozenset({"notifier.deliver", "notifier.deliver_chunk"})


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[tuple[OwnedRedis, PeerSlack, Script, list[Service]]]:
    red = OwnedRedis(Path(f"/tmp/chaos-fleet-{os.getpid()}"), aof=True).start()
    slack, feeds = PeerSlack(hold_after=FAN_OUT // 4).start(), FeedServer().start()
    feeds.put(FEED_PATH, summary_json([]))
    config = tmp_path / "subscriptions.yaml"
    subscribers = "".join(
        f"  - name: team{i:04d}\n    slack: {{channel: '#team-{i:04d}'}}\n" for i in range(FAN_OUT)
    )
    config.write_text(
        "providers:\n  - id: acme\n    name: Acme Cloud\n"
        f'    feed: {{url: "{feeds.url(FEED_PATH)}", format: statuspage-json}}\n'
        "    poll_interval: 1\n"
        f"subscribers:\n{subscribers}"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")} | {
        "NOTIFIER_REDIS_URL": red.url,
        **ALLOW_ENV,
        "NOTIFIER_KEY_PREFIX": "fleet",
        "NOTIFIER_CONFIG": str(config),
        "NOTIFIER_DATA_DIR": str(tmp_path / "data"),
        "NOTIFIER_SLACK_TOKEN": "xoxb-fleet-not-a-token",
        "NOTIFIER_SLACK_API_URL": slack.api_url,
        "NOTIFIER_HEARTBEAT_INTERVAL": "0.5",
        "NOTIFIER_RETRY_BASE": "0.5",
        "NOTIFIER_VISIBILITY_TIMEOUT": "3",  # a killed worker's tasks come back after 3 s
    }
    services = [
        Service(
            ["worker", "--hostname", f"{name}@%h", "--concurrency", "2"],
            env,
            tmp_path / f"{name}.log",
        )
        for name in ("alpha", "bravo")
    ] + [Service(["beat"], env, tmp_path / "beat.log")]
    try:
        for s in services:
            s.start()
        yield red, slack, Script(feeds), services
    finally:
        for s in services:
            s.stop()
        slack.stop()
        feeds.stop()
        red.stop()


# Known (issue 27, open): a killed worker's lock is now taken over once its heartbeat is
# stale (1.5 s here). A post the killed worker had in flight that reaches Slack after the
# new holder's in-flight lookup is posted twice; seen once in a loaded full run (9 of
# 400), not alone. Not strict: it depends on the machine's load.
@pytest.mark.xfail(
    strict=False,
    reason="a post in flight at the kill can land after the taking-over worker's lookup",
)
def test_two_workers_share_the_work_and_a_killed_one_loses_and_doubles_nothing(
    fleet: tuple[OwnedRedis, PeerSlack, Script, list[Service]],
) -> None:
    red, slack, script, (alpha, bravo, beat) = fleet

    def logs() -> str:
        return "\n".join(f"--- {s.args}\n{s.text()[-5000:]}" for s in (alpha, bravo, beat))

    client = redis.Redis.from_url(red.url)
    wait_for(lambda: client.zcard("fleet:heartbeat:workers") == 2, 60, "both workers", logs)
    assert {m.decode().split("@")[0] for m in client.zrange("fleet:heartbeat:workers", 0, -1)} \
        == {"alpha", "bravo"}  # fmt: skip
    script.advance()
    # Mid-delivery, once planning is done: a worker killed mid-planning leaves the
    # provider's planning lock (60 s) to lapse first, which this suite cannot wait for.
    wait_for(lambda: any(client.scan_iter(match="fleet:processed:*")), 90, "planned", logs)
    # A quarter posted, and the posts after it held by the fake Slack until the kill:
    # the fan-out is under way, however fast or slow this machine.
    wait_for(lambda: slack.held > 0, 90, "a quarter posted", logs)
    ports = local_tcp_ports(alpha.processes())
    alpha.kill()  # the whole worker, mid fan-out: no warm shutdown, nothing acknowledged
    killed_at = len(slack_posts(slack))
    slack.release.set()
    assert killed_at == FAN_OUT // 4
    # Everything but the killed worker's in-flight chunks goes out within seconds. Those
    # wait for its per-alert delivery locks to lapse (pipeline/delivery/attempt.py LOCK_MS, 120 s)
    # and are retried from Redis: late, not lost. Waiting the 2 minutes is beyond this
    # suite's budget; what is still out must be waiting in Redis, each alert once.
    settled = _settle(slack, client, logs)
    per_channel = Counter(m["channel"] for m in slack_posts(slack))
    doubled = {c: n for c, n in per_channel.items() if n > 1}
    assert not doubled, f"{len(doubled)} posted twice (killed at {killed_at})"  # 0 duplicated
    missing = FAN_OUT - len(per_channel)
    waiting = client.zcard("fleet:due:retrying") + client.zcard("fleet:retries")
    # At most one chunk (NOTIFIER_DELIVERY_IN_FLIGHT alerts) per killed pool process.
    chunk = Settings.model_fields["delivery_in_flight"].default
    assert missing <= 2 * chunk, (missing, settled)
    if missing:  # 0 lost: each is claimed and due again (its retry waits in Redis)
        assert client.zcard("fleet:due:undelivered") >= missing or waiting, logs()
    # Both delivered: posts came from alpha's connections and from others (bravo's).
    from_alpha = sum(1 for port in slack.peers if port in ports)
    assert 0 < from_alpha < len(slack.peers), (from_alpha, len(slack.peers))


def _settle(slack: PeerSlack, client: redis.Redis, logs: Callable[[], str]) -> float:
    """Wait until no delivery task is queued or taken by a live worker (but for a
    retry's countdown: it waits in Redis as well), every alert due
    again waits for a delivery lock (the killed worker's: they lapse after 90 s) and
    Slack's count holds, five looks in a row. The seconds it took."""
    looks: list[tuple[bool, int]] = []

    def unlocked() -> list[str]:
        due = [k.decode() for k in client.zrange("fleet:due:retrying", 0, -1)]
        return [k for k in due if not client.exists(f"fleet:delivery:lock:{k}")]

    def quiet() -> bool:
        broker_idle = not alert_tasks(client, "fleet", SENDS, due=True) and not unlocked()
        looks.append((broker_idle, len(slack_posts(slack))))
        last = looks[-5:]
        return len(last) == 5 and all(idle for idle, _ in last) and len({n for _, n in last}) == 1

    def state() -> str:
        tasks = alert_tasks(client, "fleet", SENDS, due=True)
        return f"{logs()[-8000:]}\nalert tasks {tasks}; due, unlocked {unlocked()[:20]}; " \
               f"looks {looks[-5:]}"  # fmt: skip

    return wait_for(quiet, 60, "the fan-out settled", state)

"""Scale-out on one Redis: two `notifier worker` processes (their own hostnames) and one
`notifier beat` share the polling and a 400-alert fan-out; killing one worker in the
middle of it loses no alert and posts none twice (the fake Slack counts the posts of
each channel: one subscriber a channel, one alert each)."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from tests.chaos.harness import (
    FEED_PATH,
    OwnedRedis,
    PeerSlack,
    Script,
    Service,
    acme_env,
    alert_tasks,
    local_tcp_ports,
    slack_posts,
)
from tests.support.feed_server import FeedServer
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
    subscribers = "".join(
        f"  - name: team{i:04d}\n    slack: {{channel: '#team-{i:04d}'}}\n" for i in range(FAN_OUT)
    )
    env = acme_env(tmp_path, feeds, red.url, "fleet", subscribers, **{
        "NOTIFIER_SLACK_TOKEN": "xoxb-fleet-not-a-token",
        "NOTIFIER_SLACK_API_URL": slack.api_url,
        "NOTIFIER_HEARTBEAT_INTERVAL": "0.5",
        "NOTIFIER_RETRY_BASE": "0.5",
        "NOTIFIER_VISIBILITY_TIMEOUT": "3",  # a killed worker's tasks come back after 3 s
        # A post the killed worker had on its way fences its alert for this and 2 s from
        # the post's start (10 + 2 s by default) before it is looked up and sent again.
        "NOTIFIER_SLACK_TIMEOUT": "3",
        # A worker killed mid-poll holds back the polls until its lease lapses.
        "NOTIFIER_POLL_LEASE": "5",
        "NOTIFIER_HTTP_TIMEOUT": "2",
    })  # fmt: skip
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
        # All three at once: each stop waits for its warm shutdown.
        with ThreadPoolExecutor(len(services)) as pool:
            list(pool.map(Service.stop, services))
        slack.stop()
        feeds.stop()
        red.stop()


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
    # (A post is held on arrival, counted once its body is read: a loaded machine may
    # still be reading the quarter's last ones when the first is held.)
    quarter = FAN_OUT // 4
    wait_for(
        lambda: slack.held > 0 and len(slack_posts(slack)) >= quarter, 90, "a quarter posted", logs
    )
    ports = local_tcp_ports(alpha.processes())
    alpha.kill()  # the whole worker, mid fan-out: no warm shutdown, nothing acknowledged
    killed_at = len(slack_posts(slack))
    # Longer than NOTIFIER_SLACK_TIMEOUT and bravo's held posts time out (then looked
    # up and sent again before they land): the failure report says how long it was.
    held_s = time.monotonic() - (slack.first_held or time.monotonic())
    slack.release.set()  # the posts it had on their way land now, unanswered
    assert killed_at == quarter

    # The killed worker's alerts come back (the broker's visibility timeout, the watchdog
    # retry); its delivery locks are fenced while a post it had in flight may still land
    # (pipeline/delivery/lock.py: NOTIFIER_SLACK_TIMEOUT and a margin), then taken,
    # and each such post is looked up (its channel's id listed by name) before anything
    # is posted again. So every alert goes out, each once, within a minute of the kill.
    def full_logs() -> str:
        return "\n".join(s.text() for s in (alpha, bravo))

    settled = _settle(slack, client, logs, full_logs, held_s)
    per_channel = Counter(m["channel"] for m in slack_posts(slack))
    doubled = {c: n for c, n in per_channel.items() if n > 1}
    assert not doubled, f"{len(doubled)} posted twice (killed at {killed_at})"  # 0 duplicated
    assert set(per_channel) == set(_team_channels(slack)), (  # 0 lost, nothing elsewhere
        settled,
        _odd_channels(slack, client, full_logs),
    )
    # Both delivered: posts came from alpha's connections and from others (bravo's).
    from_alpha = sum(1 for port in slack.peers if port in ports)
    assert 0 < from_alpha < len(slack.peers), (from_alpha, len(slack.peers))


def _settle(
    slack: PeerSlack,
    client: redis.Redis,
    logs: Callable[[], str],
    full_logs: Callable[[], str],
    held_s: float,
) -> float:
    """Wait until every channel has its post, no delivery task is queued or taken by a
    live worker (but for a retry's countdown: it waits in Redis as well), no alert waits
    to be tried again, and Slack's count holds, five looks in a row (a post sent twice
    would come by then). The seconds it took."""
    looks: list[tuple[bool, int]] = []

    def quiet() -> bool:
        posts = slack_posts(slack)
        idle = (
            set(_team_channels(slack)) <= {m["channel"] for m in posts}
            and not alert_tasks(client, "fleet", SENDS, due=True)
            and not client.zcard("fleet:due:retrying")
        )
        looks.append((idle, len(posts)))
        last = looks[-5:]
        return len(last) == 5 and all(idle for idle, _ in last) and len({n for _, n in last}) == 1

    def state() -> str:
        tasks = alert_tasks(client, "fleet", SENDS, due=True)
        due = [k.decode() for k in client.zrange("fleet:due:retrying", 0, -1)]
        # Where they wait: queued, or taken and not acknowledged (kombu restores those
        # under its sweep mutex, which a killed sweeper leaves behind until it expires).
        broker = "fleet:celery:"
        queued = {q: client.llen(broker + q) for q in ("poll", "page", "deliver")}
        unacked, mutex_ms = client.hlen(broker + "unacked"), client.pttl(broker + "unacked_mutex")
        return (
            f"{logs()[-8000:]}\nalert tasks {tasks}; queued {queued}; unacked {unacked}; "
            f"sweep mutex ttl {mutex_ms} ms; due {due[:20]}; looks {looks[-5:]}; posts held "
            f"{held_s:.1f} s before the kill\n"
            f"{_odd_channels(slack, client, full_logs)}"
        )

    return wait_for(quiet, 60, "every alert delivered, once", state)


def _odd_channels(slack: PeerSlack, client: redis.Redis, full_logs: Callable[[], str]) -> str:
    """For a failure: each channel posted to twice or not at all (its posts: ts, the
    channel as posted to; its records in Redis, the due sets holding it, every log line
    about it), and any post to a channel outside the fan-out."""
    ids = _team_channels(slack)
    posts = slack_posts(slack)
    per_channel = Counter(m["channel"] for m in posts)
    odd = [(c, t) for c, t in ids.items() if per_channel[c] != 1][:6]
    lines = full_logs().splitlines()
    out = []
    for cid, team in odd:
        sent = [(m["ts"], m["body"].get("channel")) for m in posts if m["channel"] == cid]
        records = {
            k.decode(): client.hgetall(k) if client.type(k) == b"hash" else client.type(k)
            for k in client.scan_iter(match=f"fleet:*{team}*", count=1000)
        }
        keys = [k.removeprefix("fleet:alert:") for k in records if k.startswith("fleet:alert:")]
        waits = {
            d.decode(): client.zscore(d, keys[0])
            for d in client.scan_iter(match="fleet:due:*", _type="zset")
            if keys and client.zscore(d, keys[0]) is not None
        }
        about = [line for line in lines if team in line or f"#team-{team[4:]}" in line]
        out.append(
            f"== {team} ({cid}): {len(sent)} posts {sent}\n{records}\ndue {waits}\n"
            + "\n".join(about)
        )
    others = [
        (m["channel"], m["body"].get("channel"), m["ts"], str(m.get("text", ""))[:200])
        for m in posts
        if m["channel"] not in ids
    ]
    if others:
        out.append(f"== posts to channels outside the fan-out: {others}")
    return "\n".join(out)


def _team_channels(slack: PeerSlack) -> dict[str, str]:
    """The fan-out's channels: Slack's id of each → its team."""
    return {slack._channel_id(f"#team-{i:04d}"): f"team{i:04d}" for i in range(FAN_OUT)}

"""One real service (`notifier run`: beat, a worker with two pool processes, the web
endpoint) on a redis-server the test owns (AOF, `appendfsync everysec`), against the fake
Slack, Twilio and SMTP and a local feed serving a scripted incident. Each test breaks
one thing while the incident gets its next update, then checks every update so far:
posted once to Slack (0 lost, 0 duplicated), replies in the provider's order, mailed
once, and one page.

The tests share the service and run in this order: each starts where the last ended,
which is the point (a fault must leave the service able to take the next one).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from notifier.models import parse_iso
from notifier.store.feeds.providers import ProviderStore
from tests.chaos.harness import (
    FEED_PATH,
    HangingFeeds,
    OwnedRedis,
    Script,
    Service,
    marker,
    posts_per_update,
    settle,
    slack_posts,
)
from tests.fakes.slack_api import FakeSlack
from tests.fakes.smtp import FakeSmtp
from tests.fakes.twilio_api import FakeTwilio
from tests.support.local import ALLOW_ENV
from tests.support.procs import child_titled
from tests.support.served import wait_for

# One worker runs this module's tests, in order, on the one service they share.
pytestmark = [pytest.mark.chaos, pytest.mark.xdist_group("chaos-faults")]
PAGER = "+15550100001"


@dataclass
class World:
    redis: OwnedRedis
    slack: FakeSlack
    twilio: FakeTwilio
    smtp: FakeSmtp
    feeds: HangingFeeds
    script: Script
    service: Service

    def log(self) -> str:
        return self.service.text()

    def delivered(self, mark: str, timeout: float = 40) -> float:
        """Wait until Slack has `mark`; the seconds it took."""
        return wait_for(lambda: any(m == mark for _, m in posts_per_update(self.slack)),
                        timeout, f"{mark} on Slack", self.log)  # fmt: skip

    def mailed(self, mark: str, timeout: float = 40) -> None:
        wait_for(lambda: mark in self.mail_marks(), timeout, f"{mark} mailed", self.log)

    def mail_marks(self) -> list[str]:
        found = []
        for msg in list(self.smtp.messages):
            body = msg.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            found += [m for m in (f"[U{i}]" for i in range(1, 40)) if m in text]
        return found

    def polled_after(self, hits: int, timeout: float = 30) -> float:
        return wait_for(lambda: self.feeds.hits.get(FEED_PATH, 0) > hits, timeout,
                        "a poll", self.log)  # fmt: skip

    def polled_at(self) -> datetime:
        """When the last poll of the feed was recorded (the epoch if never)."""
        client = self.redis.client()
        try:
            at = parse_iso(ProviderStore(client, "chaos").status("acme").get("polled_at"))
        finally:
            client.close()
        return at or datetime.fromtimestamp(0, UTC)

    def settled(self, timeout: float = 40) -> None:
        """Wait until nothing is on its way to a channel (`settle`)."""

        def sent() -> int:
            return len(self.slack.messages) + len(self.smtp.messages) + len(self.twilio.sent)

        settle(self.redis.client, "chaos", sent, self.log, timeout)

    def check(self, pages: int | None = 1) -> None:
        """Every update so far: once on Slack, replies in order, once by mail; one page.
        Checked once the service has settled: a duplicate would come from a retry or a
        redelivery, and by then none is left to come."""
        self.settled()
        counts = posts_per_update(self.slack)
        expected = {f"[U{i}]" for i in range(1, self.script.n + 1)}
        assert {m for _, m in counts} == expected, counts  # 0 lost
        assert all(n == 1 for n in counts.values()), counts  # 0 duplicated
        for parent in [m for m in slack_posts(self.slack) if not m.get("thread_ts")]:
            replies = [marker(m) for m in self.slack.thread(str(parent["ts"]))]
            numbers = [int(str(r)[2:-1]) for r in replies]
            assert numbers == sorted(numbers), replies  # in the provider's order
        mails = self.mail_marks()
        assert sorted(mails) == sorted(set(mails)) and set(mails) <= expected, mails
        if pages is not None:
            assert len(self.twilio.to(PAGER)) == pages  # the incident pages once


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    # A short path: a unix socket's path must fit in 107 bytes.
    tmp = tmp_path_factory.mktemp("chaos")
    red = OwnedRedis(Path(f"/tmp/chaos-redis-{os.getpid()}"), aof=True).start()
    slack, twilio, smtp = FakeSlack().start(), FakeTwilio().start(), FakeSmtp().start()
    feeds = HangingFeeds().start()
    script = Script(feeds)
    config = tmp / "subscriptions.yaml"
    config.write_text(
        "providers:\n  - id: acme\n    name: Acme Cloud\n"
        f'    feed: {{url: "{feeds.url(FEED_PATH)}", format: statuspage-json}}\n'
        "    poll_interval: 1\n"
        "subscribers:\n  - name: platform\n"
        '    slack: {channel: "#vendor-status"}\n'
        "    email: {to: [sre@example.com]}\n"
        f'    sms: {{to: ["{PAGER}"]}}\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")} | {
        "NOTIFIER_REDIS_URL": red.url,
        **ALLOW_ENV,
        "NOTIFIER_KEY_PREFIX": "chaos",
        "NOTIFIER_CONFIG": str(config),
        "NOTIFIER_DATA_DIR": str(tmp / "data"),
        "NOTIFIER_WEB_PORT": "0",
        "NOTIFIER_SLACK_TOKEN": "xoxb-chaos-not-a-token",
        "NOTIFIER_SLACK_API_URL": slack.api_url,
        "NOTIFIER_TWILIO_ACCOUNT_SID": twilio.account_sid,
        "NOTIFIER_TWILIO_AUTH_TOKEN": twilio.auth_token,
        "NOTIFIER_TWILIO_FROM": "+15550100999",
        "NOTIFIER_TWILIO_API_URL": twilio.url,
        "NOTIFIER_SMTP_HOST": "127.0.0.1",
        "NOTIFIER_SMTP_PORT": str(smtp.port),
        "NOTIFIER_SMTP_STARTTLS": "false",
        # Short, so each fault costs seconds: stale heartbeats after 1.5 s, a killed or
        # frozen beat's lock lapsed after 2 s, a killed worker's task back after 3 s, a
        # hung feed given up after 2 s, a storm's four retries (without Retry-After)
        # within 0.5 + 1 + 2 + 4 s.
        "NOTIFIER_HEARTBEAT_INTERVAL": "0.5",
        "NOTIFIER_BEAT_LOCK_TIMEOUT": "2",
        "NOTIFIER_RETRY_BASE": "0.5",
        "NOTIFIER_VISIBILITY_TIMEOUT": "3",
        "NOTIFIER_HTTP_TIMEOUT": "2",
        "NOTIFIER_HTTP_CONNECT_TIMEOUT": "1",
        # A process killed mid-poll (the pool process, the whole service) holds back the
        # next polls until its lease lapses: 5 s, not 2 min.
        "NOTIFIER_POLL_LEASE": "5",
    }
    service = Service(["run", "--concurrency", "2"], env, tmp / "service.log")
    w = World(red, slack, twilio, smtp, feeds, script, service)
    script.advance()
    service.start()
    try:
        w.delivered("[U1]", timeout=60)
        w.mailed("[U1]")
        wait_for(lambda: service.healthz() == 200, 30, "a healthy service", w.log)
        w.check()
        yield w
    finally:
        service.stop()
        for part in (slack, twilio, feeds):
            part.stop()
        smtp.stop()
        red.stop()


def test_a_killed_beat_is_replaced_and_polling_resumes_within_30_s(world: World) -> None:
    beat = world.service.child("beat")
    os.kill(beat, signal.SIGKILL)
    wait_for(lambda: _child(world, "beat") not in (None, beat), 30, "a new beat", world.log)
    hits = world.feeds.hits.get(FEED_PATH, 0)
    assert world.polled_after(hits + 1, timeout=30) < 30
    world.delivered(world.script.advance())
    world.check()


def _child(world: World, role: str) -> int | None:
    return child_titled(world.service.pid, f"notifier: {role}")


def test_a_killed_pool_process_costs_nothing(world: World) -> None:
    pool = world.service.pool()
    os.kill(pool[0], signal.SIGKILL)
    world.delivered(world.script.advance())
    wait_for(lambda: len(world.service.pool()) == len(pool), 30, "the pool refilled", world.log)
    world.check()


@pytest.mark.parametrize(("status", "retry_after", "storm"), [(500, None, 2), (429, 1.0, 4)])
def test_a_slack_storm_of_errors_delays_but_loses_and_doubles_nothing(
    world: World, status: int, retry_after: float | None, storm: int
) -> None:
    before = world.slack.failures
    world.slack.fail_next(storm, status=status, retry_after=retry_after)
    mark = world.script.advance()
    world.delivered(mark, timeout=60)
    assert world.slack.failures - before == storm
    world.mailed(mark)
    world.check()


def test_an_smtp_server_that_refuses_connections_gets_the_mail_when_it_is_back(
    world: World,
) -> None:
    world.smtp.controller.stop()
    try:
        mark = world.script.advance()
        world.delivered(mark)
        # The mail was tried, refused and put back to wait for its retry.
        client = world.redis.client()
        wait_for(lambda: client.zcard("chaos:due:retrying") > 0, 30, "a mail retry", world.log)
        client.close()
        assert mark not in world.mail_marks()
    finally:
        # A new server on the same port, keeping what the old one received.
        world.smtp.controller = Controller(
            world.smtp.recorder, hostname="127.0.0.1", port=world.smtp.port, ready_timeout=5
        )
        world.smtp.controller.start()
    world.mailed(mark, timeout=60)
    world.check()


def test_a_feed_that_hangs_past_the_timeout_holds_up_nothing(world: World) -> None:
    processes = world.service.processes()
    failed = world.log().count("feed poll failed")
    world.feeds.hang.set()
    try:
        mark = world.script.advance()
        # A poll gives up on the hung feed after NOTIFIER_HTTP_TIMEOUT.
        wait_for(lambda: world.log().count("feed poll failed") > failed, 30, "a poll given up",
                 world.log)  # fmt: skip
    finally:
        world.feeds.hang.clear()
    world.delivered(mark)
    assert world.service.processes() == processes
    world.check()


def test_a_frozen_beat_turns_healthz_503_and_resumes_when_thawed(world: World) -> None:
    beat = world.service.child("beat")
    os.kill(beat, signal.SIGSTOP)
    try:
        took = wait_for(lambda: world.service.healthz() == 503, 60, "503", world.log)
        assert took < 60
        mark = world.script.advance()
        # The frozen beat's lock (NOTIFIER_BEAT_LOCK_TIMEOUT, 2 s) lapses while it is frozen.
        client = world.redis.client()
        wait_for(lambda: not client.exists("chaos:redbeat::lock"), 30, "the lock lapsed",
                 world.log)  # fmt: skip
        client.close()
        assert mark not in {m for _, m in posts_per_update(world.slack)}
    finally:
        os.kill(beat, signal.SIGCONT)
    world.delivered(mark, timeout=30)
    assert world.service.child("beat") == beat  # it went on; nothing was restarted
    wait_for(lambda: world.service.healthz() == 200, 30, "healthy again", world.log)
    world.check()


def test_redis_paused_past_every_client_timeout_costs_no_process(world: World) -> None:
    processes = world.service.processes()
    # Longer than every socket timeout the running service sets on Redis (5 s at most,
    # from a command sent in the stall's first second: the 10 s of `notifier run`'s
    # start-up check is over by now) and than a heartbeat's staleness (1.5 s): every
    # process sees Redis fail, and none dies of it.
    stall = world.redis.sleep(7)
    mark = world.script.advance()
    stall.join()
    world.delivered(mark, timeout=40)
    assert world.service.processes() == processes
    world.check()


def test_redis_killed_and_restarted_from_its_aof_loses_nothing(world: World) -> None:
    world.redis.restart()
    world.delivered(world.script.advance(), timeout=40)
    assert "Redis lost its data" not in world.log()
    world.check()


def test_the_whole_service_killed_and_restarted_resends_nothing(world: World) -> None:
    world.service.kill()
    killed = datetime.now(UTC).replace(microsecond=0)  # `polled_at` is to the second
    world.service.start()
    # A poll of the restarted service recorded: it read the unchanged document and sent
    # nothing (checked below); then the next update.
    wait_for(lambda: world.polled_at() > killed, 60, "a poll after the restart", world.log)
    world.delivered(world.script.advance(), timeout=40)
    world.check()


def test_redis_restarted_empty_rebaselines_silently_and_resends_nothing(
    world: World,
) -> None:
    world.redis.restart(blank=True)
    # The baseline is taken from the document as it was: the next update is a change.
    wait_for(lambda: "baseline taken again after Redis lost its data" in world.log(), 30,
             "the baseline taken again", world.log)  # fmt: skip
    world.delivered(world.script.advance(), timeout=40)
    said = [line for line in world.log().splitlines() if "Redis lost its data (" in line]
    assert len(said) == 1 and " WARNING " in said[0]  # one line, however many noticed
    world.check(pages=None)  # the page count: the next test


def test_after_redis_lost_its_data_an_open_incident_does_not_page_again(world: World) -> None:
    # The re-baseline marked the open incident as heard of before the loss: its next
    # update was a follow-up (`LOST_OPENER` in notifier/store/delivery/threads.py), not a
    # first alert.
    assert len(world.twilio.to(PAGER)) == 1
    world.delivered(world.script.advance())
    world.check(pages=1)

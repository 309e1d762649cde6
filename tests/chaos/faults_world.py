"""The world of the chaos fault tests (`test_faults.py`, `test_redis_faults.py`): one real
service (`notifier run`: beat, a worker with two pool processes, the web endpoint) on a
redis-server the test owns (AOF, `appendfsync everysec`), against the fake Slack, Twilio
and SMTP and a local feed serving a scripted incident. Each test breaks one thing while
the incident gets its next update, then checks every update so far: posted once to Slack
(0 lost, 0 duplicated), replies in the provider's order, mailed once, and one page.
Made here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from notifier.models import parse_iso
from notifier.pipeline.runtime.health import TICKS
from notifier.store.feeds.providers import ProviderStore
from notifier.store.ops.heartbeats import Heartbeats
from tests.chaos.harness import (
    FEED_PATH,
    HangingFeeds,
    OwnedRedis,
    Script,
    Service,
    acme_env,
    marker,
    posts_per_update,
    settle,
    slack_posts,
)
from tests.fakes.slack_api import FakeSlack
from tests.fakes.smtp import FakeSmtp
from tests.fakes.twilio_api import FakeTwilio
from tests.support.served import wait_for

PAGER = "+15550100001"
HEARTBEAT_S = 0.5  # each process writes its heartbeat this often


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

    def workers_alive(self) -> int:
        """How many Celery workers have a fresh heartbeat (written once each worker
        consumes, its pool processes forked): the store /healthz reads."""
        client = self.redis.client()
        try:
            pulse = Heartbeats(client, "chaos").read(datetime.now(UTC), TICKS * HEARTBEAT_S)
        finally:
            client.close()
        return len(pulse.workers)

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


@contextmanager
def running_world(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[World]:
    """The service and its fakes, with the first update delivered and checked."""
    # A short path: a unix socket's path must fit in 107 bytes.
    tmp = tmp_path_factory.mktemp(name)
    red = OwnedRedis(Path(f"/tmp/{name}-{os.getpid()}"), aof=True).start()
    slack, twilio, smtp = FakeSlack().start(), FakeTwilio().start(), FakeSmtp().start()
    feeds = HangingFeeds().start()
    script = Script(feeds)
    subscribers = (
        "  - name: platform\n"
        '    slack: {channel: "#vendor-status"}\n'
        "    email: {to: [sre@example.com]}\n"
        f'    sms: {{to: ["{PAGER}"]}}\n'
    )
    env = acme_env(tmp, feeds, red.url, "chaos", subscribers, **{
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
        "NOTIFIER_HEARTBEAT_INTERVAL": str(HEARTBEAT_S),
        "NOTIFIER_BEAT_LOCK_TIMEOUT": "2",
        "NOTIFIER_RETRY_BASE": "0.5",
        "NOTIFIER_VISIBILITY_TIMEOUT": "3",
        "NOTIFIER_HTTP_TIMEOUT": "2",
        "NOTIFIER_HTTP_CONNECT_TIMEOUT": "1",
        # A process killed mid-poll (the pool process, the whole service) holds back the
        # next polls until its lease lapses: 5 s, not 2 min.
        "NOTIFIER_POLL_LEASE": "5",
    })  # fmt: skip
    service = Service(["run", "--concurrency", "2"], env, tmp / "service.log")
    w = World(red, slack, twilio, smtp, feeds, script, service)
    script.advance()
    service.start()
    try:
        w.delivered("[U1]", timeout=60)
        w.mailed("[U1]")
        wait_for(lambda: service.healthz() == 200, 30, "a healthy service", w.log)
        # Both Celery workers (the main one and the page worker) ready, their pool
        # processes forked: a test that compares the service's processes before and after
        # a fault must not count a late start as a process the fault cost or added.
        wait_for(lambda: w.workers_alive() == 2, 30, "both workers ready", w.log)
        w.check()
        yield w
    finally:
        service.stop()
        for part in (slack, twilio, feeds):
            part.stop()
        smtp.stop()
        red.stop()

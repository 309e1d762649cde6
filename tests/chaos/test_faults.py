"""Faults of the service's own processes and of its vendors, on one running service
(`tests/chaos/faults_world.py`): a killed beat, a killed pool process, Slack storms of
500s and 429s, an SMTP server refusing connections, a feed that hangs, a frozen beat.
The Redis faults are in `test_redis_faults.py`, on a service of their own, so that the
two chains run side by side.

The tests share the service and run in this order: each starts where the last ended,
which is the point (a fault must leave the service able to take the next one).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from tests.chaos.faults_world import World, running_world
from tests.chaos.harness import FEED_PATH, posts_per_update
from tests.support.procs import child_titled
from tests.support.served import wait_for

# One worker runs this module's tests, in order, on the one service they share.
pytestmark = [pytest.mark.chaos, pytest.mark.xdist_group("chaos-faults")]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_world(tmp_path_factory, "chaos-faults") as w:
        yield w


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

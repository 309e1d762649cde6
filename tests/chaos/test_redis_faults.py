"""Redis faults under one running service (`tests/chaos/faults_world.py`): Redis paused
past every client timeout, killed and restarted from its AOF, down for 13 s (the workers
back on it within two seconds), the whole service killed and restarted, Redis restarted
empty, and what follows a data loss. On a service of their own, beside the process and
vendor faults of `test_faults.py`.

The tests share the service and run in this order: each starts where the last ended
(the last needs the data loss of the one before it).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.chaos.faults_world import PAGER, World, running_world
from tests.support.procs import title
from tests.support.served import wait_for

# One worker runs this module's tests, in order, on the one service they share.
pytestmark = [pytest.mark.chaos, pytest.mark.xdist_group("chaos-redis")]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with running_world(tmp_path_factory, "chaos-redis") as w:
        yield w


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
    after = world.service.processes()
    changed = {pid: title(pid) or "(gone)" for pid in after ^ processes}
    assert after == processes, changed
    world.check()


def test_redis_killed_and_restarted_from_its_aof_loses_nothing(world: World) -> None:
    world.redis.restart()
    world.delivered(world.script.advance(), timeout=40)
    assert "Redis lost its data" not in world.log()
    world.check()


def test_after_a_redis_outage_the_workers_consume_again_within_two_seconds(world: World) -> None:
    before = len(_consumer_connects(world.log()))
    world.redis.kill()
    # The outage itself (not a wait for the code): long enough for kombu's default
    # back-off to grow to 6 s between tries, 8 s next (a reconnect up to 7 s after Redis
    # is back); the workers' consumer tries every 2 s at most (workers/consumer.py).
    time.sleep(OUTAGE_S)
    world.redis.start()
    back = time.time()
    wait_for(lambda: len(_consumer_connects(world.log())) >= before + 2, 30,
             "both workers' consumers connected again", world.log)  # fmt: skip
    lags = [round(at - back, 2) for at in _consumer_connects(world.log())[before:]]
    assert max(lags) < RECONNECT_BOUND_S, lags
    world.delivered(world.script.advance(), timeout=40)
    world.check()


OUTAGE_S = 13.0
RECONNECT_BOUND_S = 4.0  # the consumer's 2 s between tries, and a loaded machine's margin


def _consumer_connects(log: str) -> list[float]:
    """When a worker's consumer connected to the broker (epoch seconds, as logged)."""
    return [
        datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
        for line in log.splitlines()
        if "celery.worker.consumer.connection: Connected to" in line
    ]


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

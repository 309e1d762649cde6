"""Follow-up batches against a real Redis and their in-memory twin: one batch per
group per interval, idempotent joins, a close that later joins do not reach."""

from __future__ import annotations

from datetime import timedelta

import pytest

from notifier.models import FoldedIncident, Impact
from notifier.store.delivery.followups import FollowUps, InMemoryFollowUps, RedisFollowUps
from tests.planning_helpers import at

GROUP = "oncall/sms/azure/AZ1"
FIVE = timedelta(minutes=5)


def _member(name: str) -> FoldedIncident:
    return FoldedIncident(name, name.lower(), Impact.MAJOR, ("API",), ("chatbot",), "Azure")


@pytest.fixture(params=["redis", "memory"])
def store(request: pytest.FixtureRequest) -> FollowUps:
    if request.param == "memory":
        return InMemoryFollowUps()
    client = request.getfixturevalue("redis_client")
    return RedisFollowUps(client, request.getfixturevalue("key_prefix"))


def test_the_first_join_after_the_groups_page_waits_out_the_interval(store: FollowUps) -> None:
    store.started(GROUP, at("2024-12-26 18:30"), FIVE)
    early = store.join(GROUP, _member("OpenAI"), "e1", at("2024-12-26 18:31"), FIVE)
    assert early.opened and early.due == at("2024-12-26 18:35")
    later = store.join(GROUP, _member("GitHub"), "e2", at("2024-12-26 18:33"), FIVE)
    assert (later.batch, later.due, later.opened) == (early.batch, early.due, False)
    assert [m.provider for m in store.close(early.batch)] == ["OpenAI", "GitHub"]


def test_a_join_long_after_the_page_is_due_at_once(store: FollowUps) -> None:
    store.started(GROUP, at("2024-12-26 18:30"), FIVE)
    joined = store.join(GROUP, _member("OpenAI"), "e1", at("2024-12-26 19:05"), FIVE)
    assert joined.due == at("2024-12-26 19:05")


def test_a_closed_batch_takes_no_more_and_the_next_waits_an_interval(store: FollowUps) -> None:
    first = store.join(GROUP, _member("OpenAI"), "e1", at("2024-12-26 19:05"), FIVE)
    assert [m.provider for m in store.close(first.batch)] == ["OpenAI"]
    second = store.join(GROUP, _member("GitHub"), "e2", at("2024-12-26 19:06"), FIVE)
    assert second.batch != first.batch and second.due == at("2024-12-26 19:10")
    # closing again (a retried send) names the same members
    assert [m.provider for m in store.close(first.batch)] == ["OpenAI"]
    assert [m.provider for m in store.close(second.batch)] == ["GitHub"]


def test_joining_twice_is_one_membership(store: FollowUps) -> None:
    first = store.join(GROUP, _member("OpenAI"), "e1", at("2024-12-26 19:05"), FIVE)
    store.close(first.batch)
    again = store.join(GROUP, _member("OpenAI"), "e1", at("2024-12-26 19:20"), FIVE)
    assert (again.batch, again.opened) == (first.batch, False)  # a re-planned event
    assert [m.provider for m in store.close(first.batch)] == ["OpenAI"]

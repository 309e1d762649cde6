"""The quarantine's bookkeeping on a real Redis: tries add up per item, a record is
kept 30 days and then trimmed, and letting one out forgets its tries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis

from notifier.store.ops.quarantine import KEEP, Quarantined, QuarantineStore, parse_member

T0 = datetime(2024, 12, 26, 19, 5, tzinfo=UTC)


def _event(item: str, at: datetime, incident: str = "inc1") -> Quarantined:
    return Quarantined("event", item, "acme", incident, "planning", "ValueError", at, 3)


def test_tries_add_up_per_item_and_items_tried_together_count_together(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = QuarantineStore(redis_client, key_prefix)
    assert store.failed("event", ["e1"]) == 1
    assert store.failed("event", ["e1"]) == 2
    assert store.failed("event", ["e2", "e1"]) == 3  # the most any of them has
    assert (store.tries("event", "e1"), store.tries("event", "e2")) == (3, 1)
    assert store.tries("alert", "e1") == 0  # an alert's tries are its own


def test_a_record_is_kept_30_days_then_trimmed_by_the_next_one(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = QuarantineStore(redis_client, key_prefix)
    store.add(_event("old", T0))
    assert [q.id for q in store.listed(T0 + KEEP - timedelta(minutes=1))] == ["old"]
    assert store.counts(T0 + KEEP + timedelta(minutes=1)) == {"event": 0, "alert": 0}
    later = T0 + KEEP + timedelta(days=1)
    store.add(_event("new", later))
    assert [q.id for q in store.listed(later)] == ["new"]
    assert store.get("event:old") is None  # trimmed, not only hidden
    assert redis_client.zcard(f"{key_prefix}:quarantine:event") == 1


def test_letting_one_out_forgets_its_tries_and_its_incident_mark(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = QuarantineStore(redis_client, key_prefix)
    for _ in range(3):
        store.failed("event", ["e1"])
    entry = _event("e1", T0)
    store.add(entry)
    assert store.known_bad("acme", "inc1", "planning: ValueError")
    assert not store.known_bad("acme", "inc2", "planning: ValueError")
    store.release(entry)
    assert store.listed(T0) == [] and store.tries("event", "e1") == 0
    assert not store.known_bad("acme", "inc1", "planning: ValueError")


def test_commands_name_items_by_kind_and_id() -> None:
    assert parse_member("event:abc") == ("event", "abc")
    assert parse_member("alert:e1/platform/slack") == ("alert", "e1/platform/slack")
    assert parse_member("abc") is None and parse_member("page:abc") is None

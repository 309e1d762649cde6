"""Silences in Redis: made with who, why and until when, matched by their matchers,
ended early for the record, and pruned a week after they end."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis

from notifier.models import Impact, Status
from notifier.store.ops.silences import SilenceStore, make, parse_duration
from tests.fakes import sample

NOW = sample.T0


def test_a_silence_round_trips_with_who_why_and_until_when(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = SilenceStore(redis_client, key_prefix)
    made = make("openai", lasting=timedelta(hours=2), reason="known, INC-42", by="ana",
                now=NOW, component="ChatGPT", subscriber="support")  # fmt: skip
    store.add(made)
    found = store.get(made.id)
    assert found == made
    assert found is not None
    assert (found.created_by, found.reason) == ("ana", "known, INC-42")
    assert found.ends_at == NOW + timedelta(hours=2)
    assert found.matchers() == "provider=openai component=ChatGPT subscriber=support"


def test_matchers_select_by_provider_component_case_insensitively_and_subscriber() -> None:
    s = make("openai", lasting=timedelta(hours=1), reason="r", by="a", now=NOW,
             component="chatgpt", subscriber="support")  # fmt: skip
    assert s.matches("openai", ("API", "ChatGPT"), "support")
    assert not s.matches("openai", ("API",), "support")
    assert not s.matches("openai", ("ChatGPT",), "platform")
    assert not s.matches("github", ("ChatGPT",), "support")


def test_a_silence_is_made_for_the_highest_impact_open_now_or_minor_when_none_is() -> None:
    open_major = sample.incident(impact=Impact.MAJOR)
    closed_critical = sample.incident(id="old", impact=Impact.CRITICAL, status=Status.RESOLVED)
    made = make("openai", lasting=timedelta(hours=1), reason="r", by="a", now=NOW,
                open_incidents=[open_major, closed_critical])  # fmt: skip
    assert made.max_impact is Impact.MAJOR
    assert make("openai", lasting=timedelta(hours=1), reason="r", by="a", now=NOW).max_impact \
        is Impact.MINOR  # fmt: skip
    anything = make("openai", lasting=timedelta(hours=1), reason="r", by="a", now=NOW,
                    any_impact=True, open_incidents=[open_major])  # fmt: skip
    assert anything.max_impact is None and anything.covers_impact(Impact.CRITICAL)


def test_expiring_ends_it_now_and_keeps_it_for_the_record_for_seven_days(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = SilenceStore(redis_client, key_prefix)
    made = store.add(make("openai", lasting=timedelta(hours=2), reason="r", by="ana", now=NOW))
    later = NOW + timedelta(minutes=10)
    ended = store.expire(made.id, later, "bo")
    assert ended is not None and ended.ends_at == later and ended.expired_by == "bo"
    assert not ended.active(later)
    assert [s.id for s in store.all(later + timedelta(days=6))] == [made.id]
    assert store.all(later + timedelta(days=7, minutes=1)) == []
    assert redis_client.zcard(f"{key_prefix}:silences:ends") == 0  # pruned, not only hidden
    assert redis_client.ttl(f"{key_prefix}:silence:{made.id}") > 0  # and it expires by itself
    assert store.expire("nope", later, "bo") is None


@pytest.mark.parametrize(
    ("text", "took"),
    [("2h", timedelta(hours=2)), ("90m", timedelta(minutes=90)),
     ("1d12h", timedelta(days=1, hours=12)), ("45s", timedelta(seconds=45))],
)  # fmt: skip
def test_durations_read_as_people_write_them(text: str, took: timedelta) -> None:
    assert parse_duration(text) == took


@pytest.mark.parametrize(
    "text", ["", "2", "h", "2 hours", "0m", "-1h", "367d", "999999999d", "9" * 5000 + "s"]
)
def test_a_duration_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_a_delivery_reads_only_silences_not_ended_and_old_hashes_move_to_the_new_form(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    from notifier.store.conn.batch import read_now

    store = SilenceStore(redis_client, key_prefix)
    ended = store.add(make("openai", lasting=timedelta(minutes=5), reason="r", by="a", now=NOW))
    live = make("azure", lasting=timedelta(hours=2), reason="r", by="a", now=NOW)
    # written by an earlier release: one hash of every silence
    redis_client.hset(f"{key_prefix}:silences", live.id, live.to_json())
    later = NOW + timedelta(hours=1)
    seen = read_now(redis_client, lambda b: store.all_into(b, later))
    assert [s.id for s in seen] == [live.id]  # the ended one is not read
    assert {s.id for s in store.all(later)} == {ended.id, live.id}  # the record keeps both
    assert not redis_client.exists(f"{key_prefix}:silences")  # moved
    assert [s.id for s in read_now(redis_client, lambda b: store.all_into(b, later))] == [live.id]

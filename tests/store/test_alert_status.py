"""One status per alert: `AlertStore.finish` writes it in the alert's record, every
reader sees the same value, and the keys the previous release wrote (a `state` in the
record, an `outcome` in the delivery log) still read correctly for one release."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import redis

from notifier.models import Alert, AlertKind, EventKind, to_jsonable
from notifier.store.conn.batch import read_now
from notifier.store.delivery.alerts import AlertStore, Earlier, dedup_key_for
from notifier.store.delivery.deliverylog import DeliveryLog
from notifier.store.delivery.status import AlertStatus, decode
from tests.planning_helpers import event, incident

NOW = datetime(2024, 12, 26, 20, 0, tzinfo=UTC)


def _reply(n: int, hold_until: datetime | None = None) -> Alert:
    ev = event(incident("openai", "01JG", "2024-12-26 19:00"), EventKind.NEW_UPDATE, suffix=f":{n}")
    return Alert(
        dedup_key_for(ev.event_id, "ops", "slack"), "ops/slack/openai/01JG", AlertKind.UPDATE,
        "ops", "slack", ev, hold_until=hold_until,
    )  # fmt: skip


def _earlier(store: AlertStore, prefix: str, alert: Alert) -> Earlier | None:
    return read_now(
        store._r,
        lambda batch: store.earlier_into(
            batch, alert.dedup_key, lock_prefix=f"{prefix}:delivery:lock:",
            retries_key=f"{prefix}:retries",
        ),
    )  # fmt: skip


def _every_reading(
    client: redis.Redis, prefix: str, alert: Alert, after: Alert
) -> list[AlertStatus | None]:
    """The status as each reader sees it: the store, its batch reads, the log's records
    and the thread order's look at an earlier alert."""
    store, key = AlertStore(client, prefix), alert.dedup_key
    record = DeliveryLog(client, prefix).get(key)
    earlier = _earlier(store, prefix, after)
    return [
        store.status(key), store.load(key)[1], store.load_many([key])[0][1],
        record.outcome if record is not None else None,
        earlier.status if earlier is not None else None,
    ]  # fmt: skip


@pytest.mark.parametrize("status", [s for s in AlertStatus if s.finished])
def test_the_one_writer_s_status_is_what_every_reader_sees(
    redis_client: redis.Redis, key_prefix: str, status: AlertStatus
) -> None:
    store, log = AlertStore(redis_client, key_prefix), DeliveryLog(redis_client, key_prefix)
    alert, after = _reply(1), _reply(2)
    assert store.claim(alert) and store.claim(after)
    log.attempt(alert, 0, NOW)
    assert _every_reading(redis_client, key_prefix, alert, after) == [AlertStatus.PENDING] * 5
    assert store.finish(alert.dedup_key, status, NOW, message_id="m1", error="") is True
    assert _every_reading(redis_client, key_prefix, alert, after) == [status] * 5
    # one place: the record says it; the log keeps the attempts and no status of its own
    assert redis_client.hget(store.key(alert.dedup_key), "status") == status.value.encode()
    assert redis_client.hget(store.key(alert.dedup_key), "state") is None
    assert redis_client.hget(f"{key_prefix}:dlog:{alert.dedup_key}", "outcome") is None
    record = log.get(alert.dedup_key)
    assert record is not None and record.message_id == "m1"
    assert [h["event"] for h in record.history] == ["attempt", status.value]


def test_a_status_written_on_a_pipeline_lands_with_it(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = AlertStore(redis_client, key_prefix)
    alert = _reply(1)
    store.claim(alert)
    pipe = redis_client.pipeline(transaction=False)
    assert store.finish(alert.dedup_key, AlertStatus.SKIPPED, NOW, error="carried", pipe=pipe)
    assert store.status(alert.dedup_key) is AlertStatus.PENDING  # only queued
    pipe.execute()
    assert store.status(alert.dedup_key) is AlertStatus.SKIPPED


def test_reopening_makes_the_alert_pending_again_and_says_why_in_its_history(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = AlertStore(redis_client, key_prefix)
    alert = _reply(1)
    store.claim(alert)
    store.finish(alert.dedup_key, AlertStatus.FAILED, NOW, error="quarantined: boom")
    store.finish(alert.dedup_key, AlertStatus.PENDING, NOW, error="out of quarantine")
    assert store.status(alert.dedup_key) is AlertStatus.PENDING
    record = DeliveryLog(redis_client, key_prefix).get(alert.dedup_key)
    assert record is not None and record.outcome is AlertStatus.PENDING
    assert [h["event"] for h in record.history] == ["failed", "reopened"]


# ---- keys the previous release wrote -------------------------------------------------


def _write_old_format(
    client: redis.Redis, prefix: str, alert: Alert, state: str, outcome: str | None
) -> None:
    """OLD FORMAT, written raw as the release before this one did: the record's status
    was `state` (pending, delivered, failed) and the delivery log had its own `outcome`
    (it alone told skipped, printed and silenced from delivered)."""
    body = json.dumps(to_jsonable(alert))
    client.hset(f"{prefix}:alert:{alert.dedup_key}", mapping={"alert": body, "state": state})
    if outcome is not None:
        client.hset(f"{prefix}:dlog:{alert.dedup_key}",
                    mapping={"dedup_key": alert.dedup_key, "outcome": outcome,
                             "attempts": "1", "channel": alert.channel})  # fmt: skip


@pytest.mark.parametrize(
    ("state", "outcome", "expected"),
    [
        ("pending", None, AlertStatus.PENDING),  # claimed, never tried
        ("pending", "pending", AlertStatus.PENDING),  # being tried or retried
        ("delivered", "delivered", AlertStatus.DELIVERED),
        ("delivered", "printed", AlertStatus.PRINTED),  # the log alone knew
        ("delivered", "silenced", AlertStatus.SILENCED),
        ("delivered", "skipped", AlertStatus.SKIPPED),  # carried by an escalation
        ("failed", "failed", AlertStatus.FAILED),
        ("failed", None, AlertStatus.FAILED),  # the log record expired first
    ],
)
def test_an_old_format_record_reads_as_its_status(
    redis_client: redis.Redis, key_prefix: str, state: str, outcome: str | None,
    expected: AlertStatus,
) -> None:  # fmt: skip
    alert, after = _reply(1), _reply(2)
    _write_old_format(redis_client, key_prefix, alert, state, outcome)
    store = AlertStore(redis_client, key_prefix)
    store.claim(after)  # claimed after it: its thread's next alert
    assert store.load(alert.dedup_key) == (alert, expected)
    assert store.status(alert.dedup_key) is expected
    assert store.load_many([alert.dedup_key]) == [(alert, expected)]
    if outcome is not None:
        record = DeliveryLog(redis_client, key_prefix).get(alert.dedup_key)
        assert record is not None and record.outcome is expected


def test_an_old_format_earlier_alert_still_holds_its_thread_s_next_one(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    until = NOW + timedelta(hours=8)
    held, after = _reply(1, hold_until=until), _reply(2)
    _write_old_format(redis_client, key_prefix, held, "pending", None)
    store = AlertStore(redis_client, key_prefix)
    # the thread's last alert, as the old claim noted it
    redis_client.set(store.sequence_key(held), held.dedup_key)
    store.claim(after)
    assert _earlier(store, key_prefix, after) == Earlier(held.dedup_key, AlertStatus.PENDING, until)
    store.finish(held.dedup_key, AlertStatus.DELIVERED, NOW)
    earlier = _earlier(store, key_prefix, after)
    assert earlier is not None and earlier.status is AlertStatus.DELIVERED


def test_an_old_format_pending_record_can_be_updated_and_finished(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    alert = _reply(1, hold_until=NOW + timedelta(hours=8))
    _write_old_format(redis_client, key_prefix, alert, "pending", None)
    store = AlertStore(redis_client, key_prefix)
    released = _reply(1)
    assert store.update_pending(released) is True
    assert store.load(alert.dedup_key) == (released, AlertStatus.PENDING)
    assert store.finish(alert.dedup_key, AlertStatus.PRINTED, NOW) is True
    fields = redis_client.hgetall(store.key(alert.dedup_key))
    assert fields[b"status"] == b"printed" and b"state" not in fields  # the new form only
    assert store.update_pending(released) is False


def test_an_old_format_finished_record_is_not_pending_for_an_update(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    alert = _reply(1)
    _write_old_format(redis_client, key_prefix, alert, "delivered", "skipped")
    assert AlertStore(redis_client, key_prefix).update_pending(alert) is False


@pytest.mark.parametrize(
    ("status", "state", "outcome", "expected"),
    [
        ("silenced", "delivered", "delivered", AlertStatus.SILENCED),  # the new field wins
        (None, None, "delivered", None),  # no record: the alert is gone
        (None, "pending", "delivered", AlertStatus.DELIVERED),  # a finished outcome won then
        (None, "delivered", "reopened?", AlertStatus.DELIVERED),  # not a status: ignored
        ("lost", None, None, None),
    ],
)
def test_decoding_the_stored_fields(
    status: str | None, state: str | None, outcome: str | None, expected: AlertStatus | None
) -> None:
    assert decode(status, state, outcome) is expected

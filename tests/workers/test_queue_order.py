"""A free worker process takes from its queues in the order the worker lists them: a
poll, or the next chunk of a fan-out's plan, never waits behind chat deliveries queued
before it. The app's own broker settings, on a real Redis, through kombu's Redis
transport, which the Celery worker consumes with (one message at a time: prefetch 1)."""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu import Exchange, Message, Queue

from notifier.config.settings import Settings
from tests.support.broker import app_broker
from workers.app import celery_config


def test_a_free_process_takes_every_poll_before_the_deliveries_queued_ahead_of_them(
    redis_url: str, key_prefix: str
) -> None:
    # As `-Q poll,deliver` (notifier run's worker) declares them.
    queues = [Queue(name, Exchange(name), routing_key=name) for name in ("poll", "deliver")]
    taken: list[str] = []

    def take(body: dict[str, Any], message: Message) -> None:
        taken.append(body["n"])
        message.ack()

    with app_broker(redis_url, key_prefix) as conn:
        producer = conn.Producer()
        sent = [("deliver", "d1"), ("deliver", "d2"), ("poll", "p1"), ("deliver", "d3"),
                ("poll", "p2")]  # fmt: skip
        for queue, n in sent:
            q = queues[0] if queue == "poll" else queues[1]
            producer.publish({"n": n}, exchange=q.exchange, routing_key=queue, declare=[q])
        with conn.Consumer(queues, callbacks=[take], prefetch_count=1):
            while len(taken) < len(sent):
                conn.drain_events(timeout=10)
    # In turn (kombu's default) a delivery came between the two polls.
    assert taken == ["p1", "p2", "d1", "d2", "d3"]


def test_the_tick_that_starts_the_polls_travels_with_them_never_behind_deliveries(
    redis_url: str, key_prefix: str
) -> None:
    settings = Settings(_env_file=None, key_prefix=key_prefix)  # type: ignore[call-arg]
    app = Celery(set_as_current=False)
    app.conf.update(celery_config(settings, redis_url))

    def queue(task: str) -> str:
        return str(app.amqp.router.route({}, task, (), {})["queue"].name)

    assert queue("notifier.tick") == queue("notifier.poll") == "poll"
    assert queue("notifier.final_lookups") == "poll"  # a poll of a feed's history
    assert queue("notifier.deliver") == "deliver"

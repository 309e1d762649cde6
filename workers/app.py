"""The Celery app and its production configuration.

Queues: `poll` for feed polling and the planning of a large fan-out, `page` for SMS
pages, their escalations and the retry sweep (its own consumer: no volume of chat or
email delays a page), `deliver` for every other delivery
(`notifier.pipeline.handoff`), so a slow Slack never delays a poll or a page.
Tasks are idempotent, which is what makes `acks_late` with `reject_on_worker_lost`
safe. No result backend: nothing reads results.

Importing this module has no side effects (Celery's guidance): the configuration
is a promise Celery evaluates when it first reads it, and the subscription file is
loaded when a worker or beat starts (`workers.process_state`).
"""

from __future__ import annotations

import gc
import logging
import warnings
from typing import Any

from celery import Celery
from celery.exceptions import CPendingDeprecationWarning
from celery.signals import (
    celeryd_init,
    setup_logging,
    worker_process_init,
    worker_ready,
    worker_shutdown,
)

from notifier import logs
from notifier.config.settings import Settings, get_settings
from notifier.pipeline.handoff import PAGES
from notifier.store.conn.connect import celery_broker, redbeat_options
from workers.heartbeat import WorkerPulse
from workers.process_state import loaded, redis_url

# Celery says this at every connection loss while worker_cancel_long_running_tasks_on_
# connection_loss is False (below): we chose it, on purpose.
warnings.filterwarnings(
    "ignore", message=r"\s*In Celery 5.1 we introduced an optional breaking change",
    category=CPendingDeprecationWarning,
)  # fmt: skip

# Delivery retries wait in Redis (notifier.store.delivery.retries), not in a worker, so they need no
# long visibility timeout. The one countdown Celery itself holds is a retry after our
# own infrastructure (Redis, the network) failed, kept below the timeout's floor.
MAX_INFRA_COUNTDOWN_S = 30
# A delivery's lock (notifier.pipeline.delivery.lock.LOCK_MS) must outlast any task that took
# it: no later than this, a task is killed and its lock is left to lapse.
TASK_TIME_LIMIT_S = 90
# The every-second retry sweep: Celery's INFO lines about it are dropped (it logs
# itself when it hands anything on).
ROUTINE = ("notifier.release_retries", "release-retries")


def celery_config(settings: Settings, url: str) -> dict[str, Any]:
    """Celery's settings for this deployment; `url` is the state Redis (redbeat's too),
    and the broker's unless NOTIFIER_BROKER_URL names another."""
    broker, broker_options = celery_broker(settings.broker_url or url)
    if settings.visibility_timeout <= MAX_INFRA_COUNTDOWN_S:
        logging.getLogger(__name__).warning(
            "NOTIFIER_VISIBILITY_TIMEOUT=%d is not above the %d s retry countdown: a task "
            "waiting for its retry is handed to a second worker (idempotent, but wasted work)",
            settings.visibility_timeout,
            MAX_INFRA_COUNTDOWN_S,
        )
    return {
        "broker_url": broker,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": {
            "global_keyprefix": settings.broker_prefix,
            # How long a killed worker's message waits to be redelivered (60 s by
            # default). Above MAX_INFRA_COUNTDOWN_S, so no task waiting for its retry is
            # handed to a second worker. A task still running after it (the time limit
            # is 90 s) may be: its second copy meets the delivery lock or the poll's
            # provider lock and waits, so it never sends twice (see settings).
            "visibility_timeout": settings.visibility_timeout,
            # Sweep for such messages every few seconds (kombu's default is ~100 s).
            "unacked_restore_interval": max(1, min(10, settings.visibility_timeout // 3)),
            "unacked_restore_throttle": 1,
            # A worker killed during such a sweep leaves kombu's sweep mutex behind, and
            # every killed worker's messages waited for it to expire: 300 s by default
            # (it failed the chaos fleet's kill now and then, under load). A sweep takes
            # milliseconds, and two at once restore nothing twice: each message moves
            # back in a transaction that watches the unacknowledged hash.
            "unacked_mutex_expire": min(10, settings.visibility_timeout),
            # A free process takes from its queues in the order the worker lists them
            # (`-Q page,poll,deliver`), not in turn: a poll, or the next chunk of a
            # fan-out's plan, never waits behind a chat delivery that came in later.
            "queue_order_strategy": "priority",
            # Sentinel: the group's master name (and the sentinels' own password)
            **broker_options,
        },
        "task_default_queue": "deliver",
        "task_routes": {
            # The tick starts the polls: on `deliver` (the default) it waited behind a
            # fan-out's delivery chunks, and expired there (after a second), so no poll
            # started until the fan-out had drained.
            "notifier.tick": {"queue": "poll"},
            "notifier.final_lookups": {"queue": "poll"},
            "notifier.poll": {"queue": "poll"},
            "notifier.probe": {"queue": "poll"},
            "notifier.history_drain": {"queue": "poll"},
            "notifier.history_sweep": {"queue": "poll"},
            "notifier.alerts_shrink": {"queue": "poll"},
            # Time-critical and cheap: the page worker runs them, whatever the backlog.
            "notifier.escalate": {"queue": PAGES.queue},
            "notifier.release_retries": {"queue": PAGES.queue},
        },
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "task_ignore_result": True,
        "result_backend": None,
        "task_soft_time_limit": TASK_TIME_LIMIT_S - 30,
        "task_time_limit": TASK_TIME_LIMIT_S,
        "worker_prefetch_multiplier": 1,
        # Back on the broker within 2 s of its return, not kombu's back-off of up to 30 s.
        "worker_consumer": "workers.consumer:Consumer",
        # When the worker loses Redis (a failover), its running tasks finish: their
        # writes wait for the new primary. Cancelling them (Celery 6's default) kills the
        # pool process mid-delivery, after the post and before the lock's release, so
        # the alert and its thread wait out the lock's lease behind this node's live
        # heartbeat. Their messages come back later and run again as no-ops: every task
        # is idempotent (the claim, the delivery lock, the finished status).
        "worker_cancel_long_running_tasks_on_connection_loss": False,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": False,
        "task_serializer": "json",
        "accept_content": ["json"],
        "timezone": "UTC",
        # Builds the schedule from the subscription file when beat starts.
        "beat_scheduler": "workers.schedule:Scheduler",
        "redbeat_key_prefix": f"{settings.key_prefix}:redbeat",
        "redbeat_lock_key": f"{settings.key_prefix}:redbeat::lock",
        # A crashed beat's lock lapses this fast; the live beat renews it every loop
        # (beat_max_loop_interval). Whole seconds: redbeat extends it by int(timeout).
        "redbeat_lock_timeout": settings.beat_lock_timeout,
        # Explicit (also for one server), so redbeat does not inherit the broker's
        # kombu-only transport options; through Sentinel, its own sentinel options.
        **redbeat_options(url, settings.redis_failover_wait),
        "beat_max_loop_interval": 1,
    }


# No `include`: the tasks (`workers.tasks`, and through them every stage of the pipeline)
# are imported by the worker roles alone (`workers.__main__`). The beat sends its entries
# by name, routed by `task_routes`, and starts in half the CPU without them.
app = Celery("notifier")
# A promise: evaluated when Celery first reads its configuration, not at import.
app.add_defaults(lambda: celery_config(get_settings(), redis_url()))


@setup_logging.connect
def _configure_logging(**_: object) -> None:
    s = get_settings()
    logs.configure(s.log_level, s.log_json, loaded().secret_values(), quiet=ROUTINE)


@celeryd_init.connect
def _load_at_worker_start(sender: Any = None, **_: object) -> None:
    """Parse the subscription file in the worker's main process, before the pool forks:
    a broken file stops the worker here, and every pool process inherits the result.
    The delivery locks this worker takes name it (its node, `celery@host`), so another
    worker takes them over once this one's heartbeat is stale (`lease`). What every pool
    process would otherwise load at its first feed fetch or page is loaded here once."""
    # Here, not at the top: the beat never needs them.
    from notifier.channels.sms.channel import warm_client
    from notifier.feeds.guard import tls_context
    from notifier.pipeline.runtime.health import TICKS
    from notifier.store.delivery import lease

    ctx = loaded()
    lease.identify(str(sender), TICKS * ctx.settings.heartbeat_interval)
    tls_context()  # the CA bundle loaded once, for every pool process to inherit
    if ctx.settings.twilio_account_sid:  # a pool process's first page: no lazy imports
        warm_client()


@worker_process_init.connect
def _build_runtime(**_: object) -> None:
    """A new pool process builds its Runtime before it takes a task, so its first task
    (a page, perhaps) does not; only in a worker whose main process loaded the config
    (`celeryd_init`). A failure is left for the first task to meet and report."""
    if loaded.cache_info().currsize == 0:
        return
    try:
        loaded().prepare()
    except Exception as exc:  # the first task builds it again, and says why it cannot
        logging.getLogger(__name__).warning(
            "pool process: Runtime not built ahead (%s)", type(exc).__name__
        )


@worker_process_init.connect
def _freeze_start_up_heap(**_: object) -> None:
    """Move everything a pool process inherited (every module of the pipeline, Celery,
    the parsed subscription file: ~115,000 objects) out of the garbage collector's
    reach. They live as long as the process, yet each full collection walked them all,
    60 ms here, stalling whichever delivery it interrupted. Objects made later are
    collected as before. It also keeps the collector from writing to the pages shared
    with the parent after the fork, so they stay shared."""
    gc.freeze()


_pulse: list[WorkerPulse] = []  # this worker's heartbeat thread, once it is ready


@worker_ready.connect
def _start_heartbeat(sender: Any = None, **_: object) -> None:
    """Write this worker's heartbeat from its main process, keyed by its hostname
    (`celery@host`), from the moment it consumes until it shuts down."""
    _pulse.append(WorkerPulse(str(sender.hostname)).start())


@worker_shutdown.connect
def _stop_heartbeat(**_: object) -> None:
    while _pulse:
        _pulse.pop().stop()

"""The delivery stage's wiring: channels, pager and stores, built from settings + config.

`Runtime.build` (`notifier.pipeline.runtime.wiring`) builds one per process and passes
the stores it already has, so planning and delivery share one instance of each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import redis

from notifier.channels.base import Channel
from notifier.channels.sms.pager import Pager
from notifier.config.schema import Config
from notifier.config.settings import Settings
from notifier.models import Alert
from notifier.pipeline.runtime.destinations import Destinations
from notifier.store.conn.batch import Batch, Later, Pipe
from notifier.store.delivery.alerts import Earlier
from notifier.store.delivery.deliverylog import DeliveryLog
from notifier.store.delivery.followups import FollowUps
from notifier.store.delivery.pacing import Pacing
from notifier.store.delivery.retries import RetryQueue
from notifier.store.delivery.status import AlertStatus
from notifier.store.delivery.threads import IncidentRef, RefKey, RouteKey, ThreadEntry
from notifier.store.ops.silences import SilenceStore


class AlertSource(Protocol):
    """The part of `notifier.store.delivery.alerts.AlertStore` delivery uses."""

    def load_into(
        self, batch: Batch, dedup_key: str
    ) -> Later[tuple[Alert | None, AlertStatus | None]]: ...

    def earlier_into(
        self, batch: Batch, dedup_key: str, *, lock_prefix: str, retries_key: str
    ) -> Later[Earlier | None]: ...

    def status(self, dedup_key: str) -> AlertStatus | None: ...

    def finish(
        self, dedup_key: str, status: AlertStatus, now: datetime, *, message_id: str = "",
        error: str = "", pipe: Pipe | None = None,
    ) -> object: ...  # fmt: skip

    def claim(self, alert: Alert) -> bool: ...


class DeliveryThreads(Protocol):
    """The part of `notifier.store.delivery.threads.RedisThreadStore` delivery uses: who opened
    a thread (planned it), and each target's reference to the thread's parent."""

    def get(self, route: RouteKey, incident: IncidentRef) -> ThreadEntry | None: ...

    def ref(self, thread_key: str, channel: str, target_id: str) -> str | None: ...

    def refs_into(
        self, batch: Batch, refs: Sequence[RefKey]
    ) -> Callable[[], dict[RefKey, str | None]]: ...

    def set_ref(
        self, thread_key: str, channel: str, target_id: str, ref: str, pipe: Pipe | None = None
    ) -> None: ...


class MetricsSink(Protocol):
    def record_delivery(
        self, channel: str, outcome: str, latency: float | None, pipe: Pipe | None = None
    ) -> None: ...


@dataclass
class DeliveryWiring:
    """What a delivery needs: Redis, the destinations and channels built from the
    settings and subscription file, and the stores (one of each per process)."""

    client: redis.Redis
    prefix: str
    destinations: Destinations
    channels: Mapping[str, Channel]
    alerts: AlertSource
    log: DeliveryLog
    threads: DeliveryThreads  # the store the planner registered the threads in
    pager: Pager | None = None
    metrics: MetricsSink | None = None
    followups: FollowUps | None = None  # fills a follow-up with its members when it is sent
    pacing: Pacing = field(init=False)
    retries: RetryQueue = field(init=False)
    silences: SilenceStore = field(init=False)

    def __post_init__(self) -> None:
        self.pacing = Pacing(self.client, self.prefix)
        self.retries = RetryQueue(self.client, self.prefix)
        self.silences = SilenceStore(self.client, self.prefix)

    @classmethod
    def build(
        cls,
        settings: Settings,
        config: Config,
        client: redis.Redis,
        prefix: str,
        *,
        alerts: AlertSource | None = None,
        threads: DeliveryThreads | None = None,
        metrics: MetricsSink | None = None,
        followups: FollowUps | None = None,
    ) -> DeliveryWiring:
        """Everything from settings + config: real channels where credentials are set;
        the console for every channel only when none are (see build_channels). Pass
        the stores the caller already has, so one process keeps one of each."""
        from notifier.channels.build import build_channels
        from notifier.store.delivery.alerts import AlertStore
        from notifier.store.delivery.followups import RedisFollowUps
        from notifier.store.delivery.threads import RedisThreadStore
        from notifier.store.ops.metrics import Metrics

        destinations = Destinations(config)
        channels, pager = build_channels(
            settings, client, prefix, destinations.presentation(), destinations.subscribers()
        )
        return cls(
            client=client, prefix=prefix, destinations=destinations, channels=channels,
            alerts=alerts or AlertStore(client, prefix), log=DeliveryLog(client, prefix),
            threads=threads or RedisThreadStore(client, prefix), pager=pager,
            metrics=metrics or Metrics(client, prefix),
            followups=followups or RedisFollowUps(client, prefix),
        )  # fmt: skip

"""The wiring: every store and channel a stage needs, built once per process.

`Runtime.build` is the one place that connects to Redis and builds the stores, the
fetcher and the delivery wiring (`notifier.pipeline.runtime.delivery_wiring`). Each stage's
entry function takes a `Runtime`; only the stages read the wall clock (`utcnow`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import redis

from notifier.channels import kinds
from notifier.config.load import Config, ResolvedProvider
from notifier.config.settings import Settings
from notifier.feeds.fetch import Fetcher
from notifier.feeds.probe import Prober
from notifier.pipeline.runtime.delivery_wiring import DeliveryWiring
from notifier.pipeline.runtime.due import Due
from notifier.store.conn.connect import connect
from notifier.store.conn.generation import Generation
from notifier.store.delivery.alerts import AlertStore
from notifier.store.delivery.dueset import DueSet, due_set
from notifier.store.delivery.fanouts import FanOuts
from notifier.store.delivery.followups import RedisFollowUps
from notifier.store.delivery.retries import RetryQueue
from notifier.store.delivery.threads import RedisThreadStore
from notifier.store.feeds.cadence import Cadence, Why
from notifier.store.feeds.discovered import DiscoveredStore
from notifier.store.feeds.events import EventStore
from notifier.store.feeds.incidents import IncidentIndex
from notifier.store.feeds.probes import ProbeStore
from notifier.store.feeds.providers import ProviderStore
from notifier.store.feeds.pushes import PushQueue
from notifier.store.ops.metrics import Metrics
from notifier.store.ops.quarantine import QuarantineStore


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Everything a stage needs, built once per process (after any fork: it holds
    Redis connections; see `notifier.pipeline.runtime.process`)."""

    settings: Settings
    client: redis.Redis
    config: Config
    state: ProviderStore
    events: EventStore
    incidents: IncidentIndex
    alerts: AlertStore
    threads: RedisThreadStore
    metrics: Metrics
    fetcher: Fetcher
    delivery: DeliveryWiring
    followups: RedisFollowUps | None = None
    providers: dict[str, ResolvedProvider] = field(default_factory=dict)
    pages_only: frozenset[str] = field(default_factory=frozenset)
    discovered: DiscoveredStore | None = None
    # The generation marker this process saw when it was built (None: none yet), to
    # notice that Redis lost its data (notifier.pipeline.ingest.data_loss).
    generation_seen: str | None = None

    @property
    def generation(self) -> Generation:
        return Generation(self.client, self.settings.key_prefix)

    _prober: Prober | None = field(default=None, repr=False)
    _told: dict[str, Why] = field(default_factory=dict, repr=False)  # cadence reasons written
    _seeded: datetime | None = field(default=None, repr=False)  # last tick that seeded

    @property
    def cadence(self) -> Cadence:
        return Cadence(self.client, self.settings.key_prefix)

    @property
    def pushes(self) -> PushQueue:
        return PushQueue(self.client, self.settings.key_prefix)

    @property
    def probes(self) -> ProbeStore:
        return ProbeStore(self.client, self.settings.key_prefix)

    @property
    def prober(self) -> Prober:
        """One HTTP client for this process's probes, made on first use."""
        if self._prober is None:
            self._prober = Prober(self.settings.allowed_networks())
        return self._prober

    def due(self, name: Due) -> DueSet:
        """The due set `name`: held, escalations, unprocessed, undelivered, final lookups."""
        return due_set(self.client, self.settings.key_prefix, name)

    @property
    def fanouts(self) -> FanOuts:
        return FanOuts(self.client, self.settings.key_prefix)

    @property
    def retries(self) -> RetryQueue:
        return RetryQueue(self.client, self.settings.key_prefix)

    @property
    def quarantine(self) -> QuarantineStore:
        return QuarantineStore(self.client, self.settings.key_prefix)

    @classmethod
    def build(cls, settings: Settings, redis_url: str, config: Config) -> Runtime:
        """Connect to `redis_url` and build the stores and channels for `config`."""
        client = connect(
            redis_url, failover_wait=settings.redis_failover_wait, health_check_interval=30
        )
        prefix = settings.key_prefix
        fetcher = Fetcher(
            timeout=settings.http_timeout,
            connect_timeout=settings.http_connect_timeout,
            max_bytes=settings.max_feed_bytes,
            allow=settings.allowed_networks(),
        )
        # planning and delivery share one instance of each store
        alerts, threads = AlertStore(client, prefix), RedisThreadStore(client, prefix)
        metrics, followups = Metrics(client, prefix), RedisFollowUps(client, prefix)
        delivery = DeliveryWiring.build(
            settings, config, client, prefix, alerts=alerts, threads=threads, metrics=metrics,
            followups=followups,
        )  # fmt: skip
        try:
            seen = Generation(client, prefix).current()
        except redis.RedisError:  # Redis away at the first task: the poll path learns it
            seen = None
        return cls(
            generation_seen=seen,
            settings=settings,
            client=client,
            config=config,
            state=ProviderStore(client, prefix, timedelta(seconds=settings.poll_lease)),
            events=EventStore(client, prefix),
            incidents=IncidentIndex(client, prefix),
            alerts=alerts,
            threads=threads,
            metrics=metrics,
            fetcher=fetcher,
            delivery=delivery,
            followups=followups,
            providers={p.id: p for p in config.resolved_providers()},
            pages_only=kinds.pages_only(),
            discovered=DiscoveredStore(client, prefix),
        )

"""Service metrics kept in Redis, rendered for Prometheus by `notifier web`.

Workers are separate processes (and machines), so in-process counters would each
see a slice. Every process instead adds to one Redis hash; the web process reads
it in one round trip and exposes it through a prometheus_client collector.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import redis
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    SummaryMetricFamily,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from notifier.store.conn.batch import Pipe, text, writing
from notifier.store.ops.outbox import outbox_key
from notifier.store.ops.quarantine import KEEP, KINDS, index_key
from notifier.store.ops.reloads import ReloadState, parse_state

log = logging.getLogger(__name__)

# Counter name -> (help, label names). Anything recorded must be declared here.
COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "notifier_polls_total": ("Polls by outcome.", ("provider", "outcome")),
    "notifier_feed_errors_total": ("Feed fetch or parse failures.", ("provider", "error")),
    "notifier_events_total": ("Change events emitted, by kind.", ("kind",)),
    "notifier_events_dropped_total": (
        "Changes a rule decided to send to a route nowhere (quiet hours that suppress, late "
        "news whose only routes page), by reason; each is also logged at INFO.",
        ("reason",),
    ),
    "notifier_alerts_total": ("Alerts planned, by channel.", ("channel",)),
    "notifier_deliveries_total": ("Deliveries by channel and outcome.", ("channel", "outcome")),
    "notifier_probes_total": ("Synthetic probes by outcome.", ("provider", "outcome")),
    "notifier_quarantined_total": (
        "Events and alerts given up on after failing 3 tries, by where they failed.",
        ("kind", "stage"),
    ),
}
LATENCY = "notifier_detection_to_delivery_seconds"
# Per provider: the seconds polls took (fetch, parse, diff, commit) and how many.
POLL_SECONDS = "notifier_poll_duration_seconds"
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
QUEUES = ("poll", "page", "deliver")
# Work waiting in Redis for its time (see store.delivery.dueset and store.delivery.retries).
DUE_SETS = ("retrying", "held", "escalations", "unprocessed", "undelivered")


@dataclass
class Metrics:
    """Writes to `<prefix>:metrics`. Failures are logged, never raised: metrics must
    not break a poll or a delivery."""

    client: redis.Redis
    prefix: str

    @property
    def key(self) -> str:
        return f"{self.prefix}:metrics"

    def inc(self, name: str, amount: int = 1, **labels: str) -> None:
        if name not in COUNTERS:
            raise KeyError(f"undeclared metric {name}")
        field = _field(name, labels, COUNTERS[name][1])
        try:
            self.client.hincrby(self.key, field, amount)
        except redis.RedisError as exc:
            log.warning("metrics write failed: %s", type(exc).__name__)

    def record_poll(self, provider: str, outcome: str, seconds: float) -> None:
        """One poll's outcome and duration, in one round trip."""
        names = COUNTERS["notifier_polls_total"][1]
        field = _field("notifier_polls_total", {"provider": provider, "outcome": outcome}, names)
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.hincrby(self.key, field, 1)
            pipe.hincrbyfloat(self.key, f"{POLL_SECONDS}_sum|provider={_clean(provider)}", seconds)
            pipe.hincrby(self.key, f"{POLL_SECONDS}_count|provider={_clean(provider)}", 1)
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("metrics write failed: %s", type(exc).__name__)

    def record_delivery(
        self, channel: str, outcome: str, latency: float | None, pipe: Pipe | None = None
    ) -> None:
        """A delivery's outcome and, when delivered, its latency: one round trip, or
        queued on `pipe`."""
        labels = {"channel": channel, "outcome": outcome}
        names = COUNTERS["notifier_deliveries_total"][1]
        ops = [(_field("notifier_deliveries_total", labels, names), 1.0)]
        if latency is not None:
            ops += self._latency_ops(latency, channel)
        self._write(ops, pipe)

    def _latency_ops(self, seconds: float, channel: str) -> list[tuple[str, float]]:
        # Only the first bucket that holds the value is stored (two writes, not twelve);
        # the collector adds them up into Prometheus's cumulative buckets.
        le = next((_le(b) for b in BUCKETS if seconds <= b), "+Inf")
        bucket = _field(LATENCY, {"channel": channel, "le": le}, ("channel", "le"))
        return [(bucket, 1.0), (f"{LATENCY}_sum|channel={channel}", seconds)]

    def _write(self, ops: list[tuple[str, float]], pipe: Pipe | None = None) -> None:
        try:
            with writing(self.client, pipe) as pipe:
                for name, amount in ops:
                    if name.startswith(f"{LATENCY}_sum"):
                        pipe.hincrbyfloat(self.key, name, amount)
                    else:
                        pipe.hincrby(self.key, name, int(amount))
        except redis.RedisError as exc:
            log.warning("metrics write failed: %s", type(exc).__name__)


def _le(bound: float) -> str:
    return repr(float(bound))


def _field(name: str, labels: Mapping[str, str], names: tuple[str, ...]) -> str:
    parts = [name] + [f"{n}={_clean(labels.get(n, ''))}" for n in names]
    return "|".join(parts)


def _clean(value: str) -> str:
    # '|' and '=' delimit the field; label values come from our own ids and enums
    return str(value).replace("|", "_").replace("=", "_")


def _parse(field: str) -> tuple[str, dict[str, str]]:
    name, *pairs = field.split("|")
    return name, dict(p.split("=", 1) for p in pairs)


class RedisCollector(Collector):
    def __init__(self, client: redis.Redis, prefix: str, broker_prefix: str) -> None:
        self.client, self.prefix, self.broker_prefix = client, prefix, broker_prefix

    def collect(self) -> Iterator[Metric]:
        pipe = self.client.pipeline(transaction=False)
        pipe.hgetall(f"{self.prefix}:metrics")
        pipe.hgetall(f"{self.prefix}:config")
        sizes = waiting_sizes(pipe, self.prefix, self.broker_prefix)
        # Quarantined within the last KEEP (older entries are trimmed on the next one).
        oldest = time.time() - KEEP.total_seconds()
        for kind in KINDS:
            pipe.zcount(index_key(self.prefix, kind), oldest, "+inf")
        pipe.llen(outbox_key(self.prefix))
        raw, config, *counts, outbox_depth = pipe.execute()
        quarantined = counts[-len(KINDS) :]
        depths, waiting = sizes(counts[: -len(KINDS)])
        values = {k.decode(): float(v) for k, v in raw.items()}
        yield from _counters(values)
        yield from _histogram(values)
        yield _poll_summary(values)
        gauge = GaugeMetricFamily("notifier_queue_depth", "Messages waiting.", labels=["queue"])
        for q, depth in zip(QUEUES, depths, strict=True):
            gauge.add_metric([q], depth)
        yield gauge
        due = GaugeMetricFamily(
            "notifier_waiting",
            "Work waiting in Redis for its time: delivery retries, quiet-hours holds, "
            "escalation checks, and stragglers the reconcile sweep will re-send.",
            labels=["kind"],
        )
        for name, count in zip(DUE_SETS, waiting, strict=True):
            due.add_metric([name], count)
        yield due
        held = GaugeMetricFamily(
            "notifier_quarantine",
            "Events and alerts in quarantine (given up on within the last 30 days).",
            labels=["kind"],
        )
        for kind, count in zip(KINDS, quarantined, strict=True):
            held.add_metric([kind], count)
        yield held
        yield GaugeMetricFamily(
            "notifier_history_outbox_depth",
            "Rows waiting in the Redis outbox for the history database.",
            value=outbox_depth,
        )
        yield from _config(parse_state({text(k): text(v) for k, v in config.items()}))


def _config(state: ReloadState) -> Iterator[GaugeMetricFamily]:
    """The loaded subscription file's hash, and how the last reload went."""
    info = GaugeMetricFamily(
        "notifier_config_info", "The subscription file in force, by its hash.", labels=["hash"]
    )
    if state.hash:
        info.add_metric([state.hash], 1)
    yield info
    yield GaugeMetricFamily(
        "notifier_config_generation", "Good reloads since the first start.", value=state.generation
    )
    if state.reload_at is not None:
        yield GaugeMetricFamily(
            "notifier_config_last_reload_timestamp_seconds",
            "When the subscription file was last reloaded (SIGHUP or POST /-/reload).",
            value=state.reload_at.timestamp(),
        )
        yield GaugeMetricFamily(
            "notifier_config_last_reload_success",
            "1 if the last reload found a valid file, else 0 (the old config stayed).",
            value=1.0 if state.reload_ok else 0.0,
        )


def waiting_sizes(
    pipe: Pipe, prefix: str, broker_prefix: str
) -> Callable[[list[int]], tuple[list[int], list[int]]]:
    """Queue on `pipe` the length of each broker queue (QUEUES) and due set (DUE_SETS);
    the returned function splits the replies into those two lists."""
    for q in QUEUES:
        pipe.llen(f"{broker_prefix}{q}")
    for name in DUE_SETS:
        pipe.zcard(f"{prefix}:due:{name}")
    return lambda replies: (replies[: len(QUEUES)], replies[len(QUEUES) :])


def _counters(values: dict[str, float]) -> Iterator[CounterMetricFamily]:
    for name, (help_text, label_names) in COUNTERS.items():
        family = CounterMetricFamily(name.removesuffix("_total"), help_text, labels=label_names)
        for field, value in sorted(values.items()):
            fname, labels = _parse(field)
            if fname == name:
                family.add_metric([labels.get(n, "") for n in label_names], value)
        yield family


def _histogram(values: dict[str, float]) -> Iterator[HistogramMetricFamily]:
    family = HistogramMetricFamily(
        LATENCY, "Seconds from a change being detected to its delivery.", labels=["channel"]
    )
    channels = sorted({_parse(f)[1]["channel"] for f in values if f.startswith(LATENCY + "|")})
    for channel in channels:
        running, buckets = 0.0, []
        for le in [*(_le(b) for b in BUCKETS), "+Inf"]:
            running += values.get(
                _field(LATENCY, {"channel": channel, "le": le}, ("channel", "le")), 0
            )
            buckets.append((le, running))
        total = values.get(f"{LATENCY}_sum|channel={channel}", 0.0)
        family.add_metric([channel], buckets, total)
    yield family


def _poll_summary(values: dict[str, float]) -> SummaryMetricFamily:
    family = SummaryMetricFamily(
        POLL_SECONDS, "Seconds a poll took: fetch, parse, diff and commit.", labels=["provider"]
    )
    for provider, (count, total) in sorted(poll_stats(values).items()):
        family.add_metric([provider], int(count), total)
    return family


def poll_stats(values: Mapping[str, float]) -> dict[str, tuple[float, float]]:
    """Per provider: (polls timed, their total seconds), from the raw metrics hash."""
    out: dict[str, tuple[float, float]] = {}
    for field, value in values.items():
        name, labels = _parse(field)
        if name in (f"{POLL_SECONDS}_count", f"{POLL_SECONDS}_sum"):
            count, total = out.get(labels["provider"], (0.0, 0.0))
            is_count = name.endswith("_count")
            out[labels["provider"]] = (value, total) if is_count else (count, value)
    return out


def poll_outcomes(values: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """Per provider: polls by outcome (`not_modified`, `changed`, `failed`, …)."""
    out: dict[str, dict[str, float]] = {}
    for field, value in values.items():
        name, labels = _parse(field)
        if name == "notifier_polls_total":
            out.setdefault(labels["provider"], {})[labels["outcome"]] = value
    return out


def raw_values(client: redis.Redis, prefix: str) -> dict[str, float]:
    """The metrics hash as field → value (for pages that show a few of them)."""
    raw = client.hgetall(f"{prefix}:metrics")
    return {text(k) or "": float(v) for k, v in raw.items()}


def render(client: redis.Redis, prefix: str, broker_prefix: str) -> bytes:
    """Prometheus text exposition of everything recorded under `prefix`."""
    registry = CollectorRegistry()
    registry.register(RedisCollector(client, prefix, broker_prefix))
    return generate_latest(registry)

"""Which Redis primary is in use, and since when.

`describe` answers for `notifier status`, `/healthz`
and `/metrics`: the sentinels' own view (their `role-reported-time` of the primary, which
restarts at its promotion, and `config-epoch`, which counts failovers), or for one server,
its address and when it started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from notifier.store.conn.address import is_sentinel, parse_sentinel
from notifier.store.conn.connect import sentinel


@dataclass(frozen=True)
class Primary:
    """The Redis primary in use: `address` (host:port or socket), `since` (its promotion
    through Sentinel, or the server's start), `via` ('sentinel' or 'direct'), `failovers`
    (Sentinel's config epoch), `replicas` (connected to it) and `error` when unreachable."""

    address: str | None
    since: datetime | None
    via: str
    failovers: int | None = None
    replicas: int | None = None
    error: str | None = None

    @property
    def degraded(self) -> bool:
        """Through Sentinel with no replica connected: no write is confirmed by a second
        copy, so a failover now could lose the last ones (`durable`)."""
        return self.via == "sentinel" and self.replicas == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "since": self.since.isoformat() if self.since else None,
            "via": self.via,
            "failovers": self.failovers,
            "replicas": self.replicas,
            "degraded": self.degraded,
            "error": self.error,
        }


def describe(url: str, client: redis.Redis, now: datetime | None = None) -> Primary:
    """The primary behind `url`, as its sentinels (or the server itself) tell it."""
    now = now or datetime.now(UTC)
    if is_sentinel(url):
        return _through_sentinel(url, client, now)
    try:
        info = client.info("server")
        repl = client.info("replication")
    except (redis.RedisError, OSError) as exc:
        return Primary(None, None, "direct", error=type(exc).__name__)
    kwargs = client.connection_pool.connection_kwargs
    where = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
    since = now - timedelta(seconds=int(info.get("uptime_in_seconds", 0)))
    return Primary(str(where), since, "direct", replicas=int(repl.get("connected_slaves", 0)))


def _through_sentinel(url: str, client: redis.Redis, now: datetime) -> Primary:
    address = parse_sentinel(url)
    manager = sentinel(address, {"socket_timeout": 2})
    try:
        for node in manager.sentinels:
            try:
                state = node.sentinel_master(address.master)
            except (redis.RedisError, OSError):
                continue
            if (
                not isinstance(state, dict)
                or not state.get("is_master")
                or state.get("is_odown")
                or state.get("is_sdown")
            ):
                continue
            ago_ms = int(state.get("role-reported-time", 0))
            return Primary(
                f"{state['ip']}:{state['port']}",
                now - timedelta(milliseconds=ago_ms),
                "sentinel",
                failovers=int(state.get("config-epoch", 0)),
                replicas=_connected_replicas(client),
            )
        return Primary(None, None, "sentinel", error="no sentinel names a reachable primary")
    finally:
        manager.close()


def primary_metrics(p: Primary) -> bytes:
    """Prometheus lines for `/metrics`: which primary is in use, since when, how many
    failovers Sentinel has counted."""
    where = (p.address or "").replace("\\", "\\\\").replace('"', '\\"')
    lines = [
        "# HELP notifier_redis_primary_info The Redis primary in use (1), 0 when none is known.",
        "# TYPE notifier_redis_primary_info gauge",
        f'notifier_redis_primary_info{{address="{where}",via="{p.via}"}} {1 if p.address else 0}',
    ]
    if p.since is not None:
        lines += [
            "# HELP notifier_redis_primary_since_seconds When the primary in use became it "
            "(promotion through Sentinel, or the server's start), Unix time.",
            "# TYPE notifier_redis_primary_since_seconds gauge",
            f"notifier_redis_primary_since_seconds {p.since.timestamp():.0f}",
        ]
    if p.failovers is not None:
        lines += [
            "# HELP notifier_redis_failovers Sentinel's configuration epoch of the primary "
            "(failovers so far).",
            "# TYPE notifier_redis_failovers gauge",
            f"notifier_redis_failovers {p.failovers}",
        ]
    return ("\n".join(lines) + "\n").encode()


def _usable(state: object) -> bool:
    """A sentinel's view of the primary that names one up and running."""
    if not isinstance(state, dict):
        return False
    return bool(state.get("is_master")) and not state.get("is_odown") and not state.get("is_sdown")


def _connected_replicas(client: redis.Redis) -> int | None:
    """Replicas connected to the primary now (the sentinels also count dead ones)."""
    try:
        return int(client.info("replication").get("connected_slaves", 0))
    except (redis.RedisError, OSError):
        return None

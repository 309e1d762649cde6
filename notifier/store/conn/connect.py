"""The one way every part of the service reaches Redis: the state store, the Celery
broker and redbeat all get their client or their options here.

A plain URL (`redis://`, `rediss://`, `unix://`) gives redis-py's client for it. A Sentinel
URL (see `address`) gives a client of the current primary: each new connection asks the
sentinels where the primary is, and a command that fails because the primary went away
(refused, reset, READONLY from a demoted one, no primary known yet) is retried with a
short backoff for up to `failover_wait` seconds, on whichever primary the sentinels name
by then. A change of primary is logged once per process at WARNING (`primary`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import redis
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.retry import Retry
from redis.sentinel import MasterNotFoundError, Sentinel

from notifier.store.conn.address import SentinelAddress, is_sentinel, parse_sentinel
from notifier.store.conn.watch import WATCH

# How long a command waits for a new primary before its error reaches the caller: above
# a Sentinel failover with its defaults (down-after 30 s, then the election), below the
# 60 s soft time limit of a task.
DEFAULT_FAILOVER_WAIT_S = 45.0
_BACKOFF_CAP_S = 1.0


class WatchedSentinel(Sentinel):
    """redis-py's Sentinel that tells `WATCH` every primary it finds, or that none is known."""

    def discover_master(self, service_name: str) -> tuple[str, int]:
        try:
            found: tuple[str, int] = super().discover_master(service_name)
        except MasterNotFoundError:
            WATCH.lost(service_name)
            raise
        WATCH.saw(service_name, f"{found[0]}:{found[1]}")
        return found


def failover_retry(wait_s: float) -> Retry:
    """Retries on a lost connection for about `wait_s` seconds: 0.1 s, 0.2 s, ... up to 1 s
    apart (with jitter), so a new primary is used within a second of its promotion."""
    if wait_s <= 0:
        return Retry(NoBackoff(), 0)
    attempts = int(wait_s / _BACKOFF_CAP_S) + 4  # the first few wait less than the cap
    return Retry(ExponentialWithJitterBackoff(cap=_BACKOFF_CAP_S, base=0.1), attempts)


def connect(
    url: str, *, failover_wait: float = DEFAULT_FAILOVER_WAIT_S, **options: Any
) -> redis.Redis:
    """A client for `url`; `options` are redis-py's (socket_timeout, health_check_interval...).
    `failover_wait=0` for a probe that must answer fast (a health check, `answers`).
    A new connection does not name its library to the server (`CLIENT SETINFO`, two round
    trips before its first command): a worker opens one per sending thread."""
    options.setdefault("driver_info", None)
    if not is_sentinel(url):
        return redis.Redis.from_url(url, **options)
    address = parse_sentinel(url)
    return sentinel(address, options).master_for(
        address.master,
        retry=failover_retry(failover_wait),
        retry_on_error=[redis.exceptions.ReadOnlyError],
    )


def sentinel(address: SentinelAddress, options: dict[str, Any] | None = None) -> WatchedSentinel:
    """The sentinels of `address`; `options` apply to the primary's connections."""
    options = dict(options or {})
    timeout = options.get("socket_timeout") or 5.0
    sentinel_kwargs: dict[str, Any] = {
        "socket_timeout": min(float(timeout), 2.0),
        "socket_connect_timeout": min(float(options.get("socket_connect_timeout") or 2.0), 2.0),
    }
    if address.sentinel_password:
        sentinel_kwargs["password"] = address.sentinel_password
    if address.password:
        options["password"] = address.password
    if address.ssl:
        options["ssl"] = True
    return WatchedSentinel(
        list(address.sentinels), sentinel_kwargs=sentinel_kwargs, db=address.db, **options
    )


def celery_broker(
    url: str, failover_wait: float = DEFAULT_FAILOVER_WAIT_S
) -> tuple[str, dict[str, Any]]:
    """Celery's `broker_url` and the transport options it needs for `url` (merged into
    `broker_transport_options`). kombu spells a unix socket `redis+socket:///path` and a
    Sentinel group `sentinel://h1:p1;sentinel://h2:p2` with the `master_name` option."""
    if not is_sentinel(url):
        return _kombu_direct(url), {}
    a = parse_sentinel(url)
    auth = f":{a.password}@" if a.password else ""
    broker = ";".join(f"sentinel://{auth}{h}:{p}/{a.db}" for h, p in a.sentinels)
    options: dict[str, Any] = {"master_name": a.master}
    if a.sentinel_password:
        options["sentinel_kwargs"] = {"password": a.sentinel_password}
    return broker, options


def redbeat_options(url: str, failover_wait: float = DEFAULT_FAILOVER_WAIT_S) -> dict[str, Any]:
    """redbeat's `redbeat_redis_url` and `redbeat_redis_options` for `url`. redbeat builds
    its own Sentinel client from these (its `redis-sentinel://` URL is only a switch) and
    retries a lost connection for `retry_period` seconds."""
    if not is_sentinel(url):
        return {"redbeat_redis_url": url, "redbeat_redis_options": {"health_check_interval": 30}}
    a = parse_sentinel(url)
    options: dict[str, Any] = {
        "sentinels": list(a.sentinels),
        "service_name": a.master,
        "db": a.db,
        "socket_timeout": 5,
        "retry_period": failover_wait,
    }
    if a.password:
        options["password"] = a.password
    if a.sentinel_password:
        options["sentinel_kwargs"] = {"password": a.sentinel_password}
    first = a.sentinels[0]
    return {
        "redbeat_redis_url": f"redis-sentinel://{first[0]}:{first[1]}/{a.db}",
        "redbeat_redis_options": options,
    }


def _kombu_direct(url: str) -> str:
    """kombu spells a unix socket `redis+socket:///path`; redis-py spells it `unix:///path`."""
    parsed = urlparse(url)
    if parsed.scheme == "unix":
        query = f"?{parsed.query}" if parsed.query else ""
        return f"redis+socket://{parsed.path}{query}"
    return url

"""`notifier healthcheck`: exit 0 when this container's part of the service is alive (for
container probes). `--redis` (the default): Redis answers. `--beat`: the beat's
heartbeat is fresh. `--worker`: the worker on this host (`celery@<hostname>`) wrote its
heartbeat within 3 ticks. The whole service's health is `notifier status` or /healthz."""

from __future__ import annotations

import argparse
import socket
import sys
from datetime import UTC, datetime

from notifier.config.settings import get_settings
from notifier.pipeline.runtime.health import Limits, observe
from notifier.store.conn.connect import connect
from notifier.store.conn.server import answers
from notifier.store.conn.url import resolve_redis_url
from notifier.store.ops.heartbeats import Heartbeats


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("healthcheck", help="exit 0 if Redis answers (container healthcheck)")
    p.add_argument("--redis", action="store_true", help="check Redis (the default check)")
    p.add_argument("--beat", action="store_true", help="check the beat's heartbeat")
    p.add_argument("--worker", action="store_true", help="check this host's worker's heartbeat")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    url = resolve_redis_url(settings.redis_url, settings.data_dir)
    if url is None or not answers(url, timeout=3):
        print("unhealthy: Redis does not answer", file=sys.stderr)
        return 1
    if args.beat or args.worker:
        client = connect(url, failover_wait=0, socket_timeout=3, socket_connect_timeout=3)
        limits = Limits.from_settings(settings)
        beat = observe(client, settings.key_prefix, limits, datetime.now(UTC)).checks[1]
        if args.beat and not beat.ok:
            print(f"unhealthy: beat: {beat.detail}", file=sys.stderr)
            return 1
        me = f"celery@{socket.gethostname()}"  # Celery's default worker name
        alive = Heartbeats(client, settings.key_prefix).read(
            datetime.now(UTC), limits.heartbeat_max_age_s
        )
        if args.worker and me not in alive.workers:
            print(f"unhealthy: no heartbeat from {me} within 3 ticks", file=sys.stderr)
            return 1
    print("ok")
    return 0

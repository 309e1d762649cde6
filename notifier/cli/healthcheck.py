"""`notifier healthcheck`: exit 0 when this process's dependencies answer (for container probes)."""

from __future__ import annotations

import argparse
import sys

from notifier.config.settings import get_settings
from notifier.store.server import answers
from notifier.store.url import resolve_redis_url


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("healthcheck", help="exit 0 if Redis answers (container healthcheck)")
    p.add_argument("--redis", action="store_true", help="check Redis (the default check)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    url = resolve_redis_url(settings.redis_url, settings.data_dir)
    if url is None or not answers(url, timeout=3):
        print("unhealthy: Redis does not answer", file=sys.stderr)
        return 1
    print("ok")
    return 0

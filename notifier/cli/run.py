"""`notifier run`, `notifier worker`, `notifier beat`.

`run` is the all-in-one: it starts the private Redis when none is configured,
then a worker with an embedded beat. `worker` and `beat` are the production
split. The Celery processes are children (`python -m workers`), so this package
never imports Celery; Ctrl-C reaches the whole process group and we stop what
we started.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import redis

from notifier.config.load import ConfigError, load_config
from notifier.config.schema import Config
from notifier.config.settings import Settings, get_settings
from notifier.pipeline import banner
from notifier.store.server import PrivateRedis, ping
from notifier.store.state import StateStore
from notifier.store.url import redacted, resolve_redis_url


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for mode, text in (
        ("run", "run the whole service: worker + beat (+ a private Redis when none is set)"),
        ("worker", "run a Celery worker (production)"),
        ("beat", "run the Celery beat scheduler (production; one active at a time)"),
    ):
        p = sub.add_parser(mode, help=text, description=text)
        p.add_argument("--queues", default="poll,deliver", help="queues to consume (worker)")
        p.add_argument("--concurrency", type=int, default=None, help="worker processes")
        p.set_defaults(func=_runner(mode))


def _runner(mode: str) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        return start(mode, args.queues, args.concurrency)

    return handler


def start(mode: str, queues: str, concurrency: int | None) -> int:
    settings = get_settings()
    try:  # a typo must stop us here with its line, not as a traceback in a child
        config = load_config(settings.config_path())
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    url = resolve_redis_url(settings.redis_url, settings.data_dir)
    private: PrivateRedis | None = None
    if url is None:
        if mode != "run":
            print(
                "error: no Redis. Set NOTIFIER_REDIS_URL (or use `notifier run`).", file=sys.stderr
            )
            return 2
        private = PrivateRedis(settings.data_dir / "redis").start(persist=True)
        url = private.url
        print(f"notifier: started private Redis at {private.socket}", file=sys.stderr)
    else:
        # Celery would retry a dead broker for minutes, one warning at a time; say it once
        # (notifier.cli.main turns the error into one line). A supervisor restarts us.
        ping(url)
    print(f"notifier: {mode} using Redis {redacted(url)}", file=sys.stderr)
    # The hook for the web server: pass its URL once `run` serves it.
    first_round = show_start(settings, config, url, web_url=None)
    env = {**os.environ, "NOTIFIER_REDIS_URL": url}
    cmd = [sys.executable, "-m", "workers", mode, "--queues", queues]
    if concurrency:
        cmd += ["--concurrency", str(concurrency)]
    child = subprocess.Popen(cmd, env=env)
    threading.Thread(target=first_round, name="first-round", daemon=True).start()
    # A supervisor's SIGTERM reaches only us: pass it on for a warm shutdown.
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    try:
        return child.wait()
    except KeyboardInterrupt:
        # The child got the same SIGINT; give it time for a warm shutdown.
        try:
            return child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGTERM)
            return child.wait()
    finally:
        if private is not None:
            private.stop()


def show_start(
    settings: Settings, config: Config, url: str, web_url: str | None
) -> Callable[[], None]:
    """Print the banner now; return what prints the first round of polls when it is in."""
    for line in banner.startup_lines(settings, config, settings.config_path(), web_url):
        print(f"notifier: {line}", file=sys.stderr)
    store = StateStore(redis.Redis.from_url(url), settings.key_prefix)
    ids = [p.id for p in config.resolved_providers()]
    since, resumed = datetime.now(UTC), banner.polled_before(store, ids)
    # Long enough for a start-up and one feed's worst case (connect + read timeouts).
    timeout = 15 + settings.http_connect_timeout + settings.http_timeout

    def report() -> None:
        try:
            found = banner.wait_first_round(store, ids, since, resumed, timeout)
        except redis.RedisError:
            return  # shutting down: the private Redis is gone, and so is the audience
        print("notifier: first poll of each provider:", file=sys.stderr)
        for line in found.lines():
            print(f"notifier:   {line}", file=sys.stderr)

    return report

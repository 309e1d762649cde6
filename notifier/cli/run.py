"""`notifier run`, `notifier worker`, `notifier beat`.

`run` is the all-in-one: it starts the private Redis when none is configured, then
the beat and a worker as separate children, watches all three
(`notifier.pipeline.runtime.supervise`: restart with backoff, give up after a crash loop) and
serves the web endpoint (the console, the webhooks, /healthz, /metrics) itself, so the health
answer outlives any child. `worker` and `beat` are the production split: one child
each, watched the same way but never restarted: they exit non-zero when it dies or
Redis stays away, and their own supervisor (systemd, compose, k8s) restarts them.
The Celery processes are children (`python -m workers`), so this package never imports
Celery; Ctrl-C reaches the whole process group and we stop what we started.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import redis
from setproctitle import setproctitle

from notifier import logs
from notifier.cli._shared import redis_url
from notifier.config.load import ConfigError, secrets_for_logging
from notifier.config.schema import Config
from notifier.config.settings import Settings, get_settings
from notifier.pipeline.ingest import data_loss
from notifier.pipeline.runtime import banner, parent
from notifier.pipeline.runtime.supervise import Child, Supervisor, terminate
from notifier.store.conn.connect import connect
from notifier.store.conn.generation import Generation, remembered
from notifier.store.conn.server import PrivateRedis, answers, ping
from notifier.store.conn.url import redacted, resolve_redis_url
from notifier.store.feeds.providers import ProviderStore
from notifier.store.ops.reloads import ConfigReloads, load_hashed

if TYPE_CHECKING:
    from notifier.web.serving.serve import WebThread

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for mode, text in (
        ("run", "run the whole service: worker + beat (+ a private Redis when none is set)"),
        ("worker", "run a Celery worker (production)"),
        ("beat", "run the Celery beat scheduler (production; one active at a time)"),
    ):
        p = sub.add_parser(mode, help=text, description=text)
        p.add_argument(
            "--queues",
            default=None,
            help="queues to consume (worker; default: all of them, pages first); `run` gives "
            "pages a worker of its own",
        )
        p.add_argument("--concurrency", type=int, default=None, help="worker processes")
        p.add_argument(
            "--hostname",
            default=None,
            help="the worker's node name (default celery@<host>); give each worker on one "
            "host its own, e.g. w2@%%h",
        )
        if mode == "run":
            p.add_argument(
                "--stop-with-parent",
                action="store_true",
                help="also stop when the parent process is gone or told to stop (Linux; "
                "`make run` uses it: make does not pass SIGINT on to what it runs)",
            )
        p.set_defaults(func=_runner(mode))


def _runner(mode: str) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        with_parent = getattr(args, "stop_with_parent", False)
        return start(mode, args.queues, args.concurrency, args.hostname, with_parent)

    return handler


# `notifier run`'s second worker: pages, escalations and the retry sweep, never behind
# chat or email (see notifier.pipeline.handoff). Two processes: a page and an escalation.
PAGE_WORKER = ["worker", "--queues", "page", "--concurrency", "2", "--hostname", "page@%h"]


def start(
    mode: str,
    queues: str | None,
    concurrency: int | None,
    hostname: str | None = None,
    stop_with_parent: bool = False,
) -> int:
    settings = get_settings()
    try:  # a typo must stop us here with its line, not as a traceback in a child
        loaded = load_hashed(settings.config_path())
        config = loaded.config
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    url = resolve_redis_url(settings.redis_url, settings.data_dir)
    if url is None and mode != "run":
        url = redis_url()  # raises NoRedisError: notifier.cli.main says it the one way
    if url is not None:
        # Celery would retry a dead broker for minutes, one warning at a time; say it once
        # (notifier.cli.main turns the error into one line). A supervisor restarts us.
        ping(url)
    sock = None
    if mode == "run":
        from notifier.cli.web import listen

        sock = listen(settings.web_host, settings.web_port)  # before starting anything
        if sock is None:
            return 2
    children: list[Child] = []
    if url is None:
        # In a session of its own: Ctrl-C reaches the group, and Redis must outlive the
        # workers, which still write as they stop; the supervisor stops it last.
        private = PrivateRedis(settings.data_dir / "redis", detached=True).start(persist=True)
        url = private.url
        print(f"notifier: started private Redis at {private.socket}", file=sys.stderr)
        children.append(_redis_child(private))
    print(
        f"notifier: {mode} using Redis {redacted(url)}, config {settings.config_path()}",
        file=sys.stderr,
    )
    logs.configure(settings.log_level, settings.log_json, secrets_for_logging(settings))
    _check_generation(settings, config, url)
    if mode == "run":
        _migrate_history(settings)
    setproctitle("notifier: supervisor")
    web_url = f"http://{_shown_host(settings.web_host)}:{sock.getsockname()[1]}" if sock else None
    first_round = show_start(settings, config, url, web_url)
    env = {**os.environ, "NOTIFIER_REDIS_URL": url}
    queues = queues or ("poll,deliver" if mode == "run" else "page,poll,deliver")
    worker = ["worker", "--queues", queues]
    if concurrency:
        worker += ["--concurrency", str(concurrency)]
    if hostname:
        worker += ["--hostname", hostname]
    own_pages = mode == "run" and "page" not in queues.split(",")
    roles = {
        "run": [["beat"], worker, *([PAGE_WORKER] if own_pages else [])],
        "worker": [worker],
        "beat": [["beat"]],
    }[mode]
    children += [_celery_child(args, env) for args in roles]
    supervisor = Supervisor(
        children,
        limit=settings.restart_limit if mode == "run" else 1,
        window=settings.restart_window,
        redis_answers=lambda: answers(url, timeout=1.0),
        redis_grace=settings.redis_grace,
    )
    # A supervisor's SIGTERM reaches only us; Ctrl-C reaches the whole group (but our
    # Redis). Either way: stop watching, pass SIGTERM on for a warm shutdown, wait, and
    # stop Redis last (the children are stopped in the reverse order of their start).
    signal.signal(signal.SIGTERM, lambda *_: supervisor.stop())
    signal.signal(signal.SIGINT, lambda *_: supervisor.stop())
    if stop_with_parent:
        parent.watch(supervisor.stop, supervisor.stopping)
    reloads = ConfigReloads(connect(url, socket_timeout=5), settings.key_prefix)
    reloads.started(loaded.hash, datetime.now(UTC))
    # SIGHUP: validate the file and, if good, tell every process through Redis (a Celery
    # worker would take the signal itself as a restart). Not done in the handler: it
    # only wakes the thread that does the I/O.
    wanted = threading.Event()
    signal.signal(signal.SIGHUP, lambda *_: wanted.set())
    threading.Thread(target=_reloader, args=(wanted, supervisor, reloads, settings),
                     name="reload", daemon=True).start()  # fmt: skip
    web = _serve(settings, url, sock, config) if sock is not None else None
    threading.Thread(target=first_round, name="first-round", daemon=True).start()
    try:
        return supervisor.run()
    finally:
        if web is not None:
            web.stop()


def _check_generation(settings: Settings, config: Config, url: str) -> None:
    """Write the generation marker at the first start; if Redis lost it while the service
    was down (the data dir remembers it), the providers are baselined again silently."""
    client = connect(url, socket_timeout=10)
    try:
        gen = Generation(client, settings.key_prefix)
        ids = [p.id for p in config.resolved_providers()]
        seen = remembered(settings.data_dir)
        data_loss.check(gen, seen, ids, datetime.now(UTC), settings.data_dir)
    finally:
        client.close()


def _migrate_history(settings: Settings) -> None:
    """The default SQLite history needs no step of its own: migrate it here. Another
    database is migrated by `notifier db upgrade`. A failure costs the history only:
    its rows wait in the outbox."""
    from sqlalchemy.exc import SQLAlchemyError

    from notifier.history import db

    url = db.database_url(settings)
    if not db.is_sqlite(url):
        return
    try:
        db.upgrade(url)
    except (SQLAlchemyError, OSError) as exc:
        log.error("history: cannot migrate %s (%s); its rows wait in the outbox",
                  db.shown(url), type(exc).__name__)  # fmt: skip


def _reloader(
    wanted: threading.Event, supervisor: Supervisor, reloads: ConfigReloads, settings: Settings
) -> None:
    while not supervisor.stopping.is_set():
        if not wanted.wait(0.5):
            continue
        wanted.clear()
        try:
            reloads.request(settings.config_path(), datetime.now(UTC))
        except redis.RedisError as exc:
            log.error("config reload not done: Redis did not answer (%s)", type(exc).__name__)


def _celery_child(args: list[str], env: dict[str, str]) -> Child:
    def launch() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "workers", *args], env=env)

    name = "page worker" if args == PAGE_WORKER else args[0]
    return Child(name, launch)


def _redis_child(private: PrivateRedis) -> Child:
    def launch() -> subprocess.Popen[bytes] | None:
        return private.start(persist=True).process

    def stop(proc: subprocess.Popen[bytes]) -> None:
        terminate(proc, timeout=10)

    return Child("redis", launch, stop, proc=private.process, stops_last=True)


def _serve(settings: Settings, url: str, sock: socket.socket, config: Config) -> WebThread:
    from notifier.cli.web import web_app
    from notifier.web.serving.serve import WebThread

    app = web_app(settings, url, notes=False, config=config)
    return WebThread(app, sock).start()  # the banner shows its URL


def show_start(
    settings: Settings, config: Config, url: str, web_url: str | None
) -> Callable[[], None]:
    """Print the banner now; return what prints the first round of polls when it is in."""
    for line in banner.startup_lines(settings, config, settings.config_path(), web_url):
        print(f"notifier: {line}", file=sys.stderr)
    store = ProviderStore(connect(url), settings.key_prefix)
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


def _shown_host(host: str) -> str:
    # A wildcard bind is reached through loopback from this machine.
    return "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)

"""`python -m workers run|worker|beat`: what `notifier run|worker|beat` execute.

Kept out of `notifier/` so the core never imports Celery.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from celery import platforms
from setproctitle import setproctitle

from workers.app import app


def titled(role: str) -> None:
    """Name this process `notifier: <role>` in ps/top, and keep that prefix on the titles
    Celery sets later (its pool processes and status changes)."""

    def set_process_title(progname: str, info: Any = None) -> str:
        title = f"notifier: {role} [{progname}]" + (f" {info}" if info else "")
        setproctitle(title)
        return title

    platforms.set_process_title = set_process_title
    setproctitle(f"notifier: {role}")


def register_tasks() -> None:
    """Register the tasks with the app: what a worker runs, never the beat (it sends
    them by name). They import every stage of the pipeline, about 0.5 CPU-s a process."""
    import workers.tasks  # noqa: F401


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m workers")
    parser.add_argument("mode", choices=["run", "worker", "beat"])
    # One worker alone serves every queue; `notifier run` and the compose file give
    # pages a worker of their own.
    parser.add_argument("--queues", default="page,poll,deliver")
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--hostname", default=None, help="Celery node name (-n)")
    args = parser.parse_args()
    level = os.environ.get("NOTIFIER_LOG_LEVEL", "INFO")
    titled("beat" if args.mode == "beat" else "worker")
    # Celery's own start-up banner (transport, queues, the task list) is DEBUG detail:
    # at INFO `notifier run` prints what is watched and where alerts go instead.
    quiet = ["--quiet"] if level.upper() != "DEBUG" else []
    if args.mode == "beat":
        app.start([*quiet, "beat", "--loglevel", level])
        return
    register_tasks()
    argv = [*quiet, "worker", "--loglevel", level, "-Q", args.queues]
    argv += ["--without-gossip", "--without-mingle"]
    if args.concurrency:
        argv += ["--concurrency", str(args.concurrency)]
    if args.hostname:  # two workers on one host need two names (heartbeats, Celery)
        argv += ["--hostname", args.hostname]
    if args.mode == "run":
        argv.append("--beat")
    app.worker_main(argv)


if __name__ == "__main__":
    main()

"""Watching the processes a command started, so the service cannot die in part, silently.

`notifier run` starts the private Redis (when it needs one), the beat and a worker as
separate children and `Supervisor.run` watches them: a child that dies is logged as an
ERROR naming it and its exit signal or status, and started again at once, then with
backoff (0.5 s, 1 s, 2 s, … up to 30 s) while it keeps dying. A child that dies
`limit` times within `window` seconds makes the supervisor stop everything and return
non-zero, so systemd, compose or Kubernetes restart the whole service: a crash loop is
theirs to see, not ours to hide. The same loop, with `limit=1`, is `notifier worker`
and `notifier beat`: one child, no restart, a non-zero exit when it dies.

Redis is watched too: when it has not answered for `redis_grace` seconds, the
supervisor gives up and returns 2 (the CLI's UNREACHABLE) rather than hang on.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

GAVE_UP = 1
REDIS_GONE = 2
BACKOFF_FIRST_S = 0.5
BACKOFF_CAP_S = 30.0
STOP_TIMEOUT_S = 30.0


def how_it_ended(returncode: int) -> str:
    """`killed by SIGKILL`, `exited with status 3`: what a Popen returncode means."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with status {returncode}"


def backoff(deaths: int) -> float:
    """Seconds before restarting a child that died `deaths` times in the window: at once
    after the first death, then doubling from BACKOFF_FIRST_S up to BACKOFF_CAP_S."""
    if deaths <= 1:
        return 0.0
    return float(min(BACKOFF_CAP_S, BACKOFF_FIRST_S * 2 ** (deaths - 2)))


@dataclass
class Child:
    """One supervised process. `launch` starts it and returns it (or None when there is
    nothing of ours to watch, e.g. a Redis a previous run left answering); it may raise,
    which counts as a death. `stop` ends it; the default is SIGTERM, then SIGKILL."""

    name: str
    launch: Callable[[], subprocess.Popen[bytes] | None]
    stop: Callable[[subprocess.Popen[bytes]], None] | None = None
    # Stopped on its own, after every child started after it has ended (the Redis the
    # others write to); the rest are told to stop all at once.
    stops_last: bool = False
    proc: subprocess.Popen[bytes] | None = None
    deaths: deque[float] = field(default_factory=deque)
    restart_at: float | None = None  # monotonic time of the next start, when down

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None


def terminate(proc: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT_S) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Supervisor:
    def __init__(
        self,
        children: list[Child],
        *,
        limit: int = 5,
        window: float = 600.0,
        redis_answers: Callable[[], bool] | None = None,
        redis_grace: float = 120.0,
        poll_s: float = 0.2,
    ) -> None:
        self.children = children  # started in this order, stopped in reverse
        self.limit, self.window = limit, window
        self.redis_answers, self.redis_grace = redis_answers, redis_grace
        self.poll_s = poll_s
        self.stopping = threading.Event()
        self._redis_lost_at: float | None = None
        self._redis_checked = 0.0

    def stop(self) -> None:
        """Ask `run` to stop every child and return 0 (a signal handler may call it)."""
        self.stopping.set()

    def run(self) -> int:
        """Start every child, watch them until `stop()` or until giving up; stop them all
        and return the exit status for the command."""
        try:
            for child in self.children:
                if self.stopping.is_set():
                    break
                if child.proc is None:  # else started by the caller, e.g. to fail early
                    self._start(child)
            while not self.stopping.wait(self.poll_s):
                code = self._watch()
                if code is not None:
                    return code
            return 0
        finally:
            self.stop_all()

    def stop_all(self) -> None:
        """Stop every child. Those not marked `stops_last` are told at once and then
        awaited: each Celery worker's warm shutdown takes 1.5 to 2 s, and one after
        another they made every stop (a deploy, a restart, Ctrl-C) 5 s long. A child
        marked `stops_last` is stopped once all started after it have ended."""
        self.stopping.set()
        together: list[tuple[Child, subprocess.Popen[bytes]]] = []
        for child in reversed(self.children):
            proc, child.proc = child.proc, None
            if proc is None or proc.poll() is not None:
                continue
            if child.stops_last:
                self._stop_together(together)
                together = []
                (child.stop or terminate)(proc)
            else:
                together.append((child, proc))
        self._stop_together(together)

    @staticmethod
    def _stop_together(children: list[tuple[Child, subprocess.Popen[bytes]]]) -> None:
        default = [proc for child, proc in children if child.stop is None]
        for proc in default:  # SIGTERM to each first, then the waits
            if proc.poll() is None:
                proc.terminate()
        for proc in default:
            terminate(proc)
        for child, proc in children:
            if child.stop is not None:
                child.stop(proc)

    def _start(self, child: Child) -> None:
        child.restart_at = None
        try:
            child.proc = child.launch()
        except Exception as exc:  # a launch that fails is a death like any other
            log.error("could not start %s: %s", child.name, exc)
            child.proc = None
            self._died(child)
            return
        if child.proc is not None:
            log.info("started %s (pid %d)", child.name, child.proc.pid)

    def _watch(self) -> int | None:
        now = time.monotonic()
        for child in self.children:
            if child.proc is not None and child.proc.poll() is not None:
                rc, pid = child.proc.returncode, child.proc.pid
                child.proc = None
                log.error("%s (pid %d) died: %s", child.name, pid, how_it_ended(rc))
                if self._died(child):
                    return GAVE_UP
            elif child.proc is None and child.restart_at is not None and now >= child.restart_at:
                self._start(child)
        if any(self._gave_up(c) for c in self.children):
            return GAVE_UP
        return self._check_redis(now)

    def _died(self, child: Child) -> bool:
        """Count a death; schedule the restart, or say it is time to give up."""
        now = time.monotonic()
        child.deaths.append(now)
        while child.deaths and child.deaths[0] < now - self.window:
            child.deaths.popleft()
        if self._gave_up(child):
            if self.limit > 1:
                log.error("%s died %d times in %.0f s: giving up, stopping everything",
                          child.name, len(child.deaths), self.window)  # fmt: skip
            return True
        delay = backoff(len(child.deaths))
        log.error("restarting %s in %.1f s", child.name, delay)
        child.restart_at = now + delay
        return False

    def _gave_up(self, child: Child) -> bool:
        return len(child.deaths) >= self.limit

    def _check_redis(self, now: float) -> int | None:
        if self.redis_answers is None or now - self._redis_checked < 1.0:
            return None
        self._redis_checked = now
        if self.redis_answers():
            if self._redis_lost_at is not None:
                log.warning("Redis answers again")
            self._redis_lost_at = None
            return None
        if self._redis_lost_at is None:
            log.error("Redis does not answer; giving up if it still does not in %.0f s",
                      self.redis_grace)  # fmt: skip
            self._redis_lost_at = now
        elif now - self._redis_lost_at >= self.redis_grace:
            log.error("Redis has not answered for %.0f s: giving up", now - self._redis_lost_at)
            return REDIS_GONE
        return None

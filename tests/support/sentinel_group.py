"""A Redis Sentinel group a test owns: one primary, one replica and three sentinels, all
the system `redis-server` on free loopback ports, with the shortest timeouts Sentinel
allows (down after 1 s), so a failover takes a few seconds.

`kill_primary()` sends SIGKILL to whichever server is the primary now; `restart(node)`
starts a killed server again on its port and files (Sentinel turns it into a replica).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from notifier.store.conn.server import redis_binary

MASTER = "notifier-primary"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Node:
    directory: Path
    port: int
    args: list[str]
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Node:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            self.args, cwd=self.directory, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
        )
        _wait(lambda: _pings(self.port), 10, f"redis on {self.port}")
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class SentinelGroup:
    directory: Path
    servers: list[Node] = field(default_factory=list)
    sentinels: list[Node] = field(default_factory=list)

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{MASTER}/0"

    def start(self) -> SentinelGroup:
        binary = redis_binary()
        ports = [free_port(), free_port()]
        for i, port in enumerate(ports):
            args = [
                binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "yes", "--appendfsync", "always", "--dir", ".",
                "--logfile", "redis.log", "--repl-diskless-sync", "yes",
                "--repl-diskless-sync-delay", "0",
            ]  # fmt: skip
            if i == 1:
                args += ["--replicaof", "127.0.0.1", str(ports[0])]
            self.servers.append(Node(self.directory / f"redis-{i}", port, args).start())
        _wait(self._replica_synced, 15, "the replica's first sync")
        for i in range(3):
            port = free_port()
            where = self.directory / f"sentinel-{i}"
            where.mkdir(parents=True, exist_ok=True)
            conf = where / "sentinel.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {where}\nlogfile sentinel.log\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {ports[0]} 2\n"
                f"sentinel down-after-milliseconds {MASTER} 1000\n"
                f"sentinel failover-timeout {MASTER} 3000\n"
                f"sentinel parallel-syncs {MASTER} 1\n"
            )
            args = [binary, str(conf), "--sentinel"]
            self.sentinels.append(Node(where, port, args).start())
        _wait(lambda: self.primary_port() == ports[0], 10, "the sentinels to agree")
        return self

    def _replica_synced(self) -> bool:
        info = redis.Redis(port=self.servers[1].port, socket_timeout=1).info("replication")
        return bool(info.get("master_link_status") == "up")

    def primary_port(self) -> int | None:
        """The primary's port as a majority of the sentinels name it, or None."""
        seen: list[int] = []
        for s in self.sentinels:
            try:
                state = redis.Redis(port=s.port, socket_timeout=1).sentinel_master(MASTER)
            except (redis.RedisError, OSError):
                continue
            if state.get("is_master") and not state.get("is_odown"):
                seen.append(int(state["port"]))
        best = max(set(seen), key=seen.count) if seen else None
        return best if best is not None and seen.count(best) >= 2 else None

    def primary(self) -> Node:
        port = self.primary_port()
        return next(n for n in self.servers if n.port == port)

    def kill_primary(self) -> Node:
        node = self.primary()
        node.kill()
        return node

    def wait_for_new_primary(self, old: Node, timeout: float = 30) -> float:
        """Seconds until the sentinels name another primary and it accepts writes."""

        def promoted() -> bool:
            port = self.primary_port()
            return port is not None and port != old.port and _writable(port)

        return _wait(promoted, timeout, "a new primary")

    def stop(self) -> None:
        for node in [*self.sentinels, *self.servers]:
            node.stop()


def _pings(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, socket_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False


def _writable(port: int) -> bool:
    try:
        return bool(redis.Redis(port=port, socket_timeout=0.5).set("sentinel-group:probe", "1"))
    except (redis.RedisError, OSError):
        return False


def _wait(condition: object, timeout: float, what: str) -> float:
    began = time.monotonic()
    assert callable(condition)
    while time.monotonic() - began < timeout:
        if condition():
            return time.monotonic() - began
        time.sleep(0.1)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")

"""The pieces a chaos test starts and breaks, all real: a redis-server the test owns, the
service (`notifier run`, or `notifier worker` + `notifier beat`) as child processes, a
local Statuspage feed serving a scripted incident, and the fake Slack, Twilio and SMTP.

Made here for tests/chaos. Every wait has a deadline and fails with the service's log.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import redis

from notifier.store.conn.server import redis_binary
from tests.fakes.slack_api import FakeSlack
from tests.support.feed_server import FeedServer
from tests.support.local import ALLOW_ENV
from tests.support.procs import children
from tests.support.served import Served, served_env, wait_for
from tests.support.statuspage_docs import FakeIncident, summary_json

ROOT = Path(__file__).resolve().parents[2]
FEED_PATH = "/api/v2/summary.json"


# The tasks that carry an alert towards a channel; a beat's housekeeping (tick, polls, the
# retry sweep) comes and goes every second and sends nothing by itself.
ALERT_TASKS = frozenset(
    {"notifier.process", "notifier.deliver", "notifier.deliver_chunk", "notifier.escalate"}
)
# The due sets that hold work a sweep hands on again. Escalations count only once due
# (a page's next step waits minutes for an acknowledgement); held alerts not at all.
PENDING_SETS = ("retrying", "unprocessed", "undelivered")


def acme_env(
    tmp: Path, feeds: FeedServer, redis_url: str, prefix: str, subscribers: str, **settings: str
) -> dict[str, str]:
    """Writes `tmp/subscriptions.yaml`: one provider, Acme Cloud, its Statuspage feed at
    FEED_PATH on `feeds`, polled every second, and `subscribers` (the YAML of the list's
    items). Gives the environment of a service on it (`served_env`, data under `tmp`, the
    loopback feed allowed), then `settings`."""
    config = tmp / "subscriptions.yaml"
    config.write_text(
        "providers:\n  - id: acme\n    name: Acme Cloud\n"
        f'    feed: {{url: "{feeds.url(FEED_PATH)}", format: statuspage-json}}\n'
        f"    poll_interval: 1\nsubscribers:\n{subscribers}"
    )
    return served_env(tmp, redis_url, prefix, NOTIFIER_CONFIG=str(config), **ALLOW_ENV, **settings)


def alert_tasks(
    client: redis.Redis, prefix: str, names: frozenset[str] = ALERT_TASKS, *, due: bool = False
) -> list[str]:
    """The tasks named `names` queued, or taken by a worker and not acknowledged (the
    broker redelivers those after a kill). With `due`, not those a worker holds for a
    countdown that ends later (a retry after our own infrastructure failed)."""
    broker = f"{prefix}:celery:"
    raws: list[bytes] = []
    for queue in ("poll", "page", "deliver"):
        raws += client.lrange(broker + queue, 0, -1)  # type: ignore[operator]
    for raw in client.hvals(broker + "unacked"):  # type: ignore[union-attr]
        raws.append(json.dumps(json.loads(raw)[0]).encode())
    later = datetime.now(UTC) + timedelta(seconds=1)
    tasks = []
    for raw in raws:
        headers = json.loads(raw).get("headers", {})
        eta = headers.get("eta")
        if due and eta and datetime.fromisoformat(eta).replace(tzinfo=UTC) > later:
            continue
        tasks.append(headers.get("task", ""))
    return [t for t in tasks if t in names]


def alert_work(client: redis.Redis, prefix: str) -> list[str]:
    """What is still on its way to a channel: alert tasks (`alert_tasks`), alerts due
    again and escalations due now. Empty means nothing more can be sent unless
    something new comes in."""
    work = alert_tasks(client, prefix)
    for name in PENDING_SETS:
        work += [f"due:{name}"] * int(client.zcard(f"{prefix}:due:{name}"))  # type: ignore[arg-type]
    escalations = client.zcount(f"{prefix}:due:escalations", "-inf", time.time() + 1)
    work += ["due:escalations"] * int(escalations)  # type: ignore[arg-type]
    return work


def settle(
    client: Callable[[], redis.Redis],
    prefix: str,
    sent: Callable[[], int],
    log: Callable[[], str],
    timeout: float = 40,
) -> float:
    """Wait until nothing more can be sent: no alert work (`alert_work`: nothing queued,
    nothing a worker took and has not acknowledged, which the broker would hand out again,
    nothing due again), three looks in a row, with `sent` (what the fakes received) the
    same in each. A duplicate could only come from that work. A delivery lock a lost
    release left behind is not waited for: it holds an alert back, it sends nothing.
    `client` is called at each look (after a failover, the primary may have moved). The
    seconds it took."""
    looks: list[tuple[bool, int]] = []

    def work() -> list[str]:
        c = client()
        try:
            return alert_work(c, prefix)
        finally:
            c.close()

    def quiet() -> bool:
        try:
            idle = not work()
        except redis.RedisError:
            idle = False
        looks.append((idle, sent()))
        last = looks[-3:]
        return len(last) == 3 and all(i for i, _ in last) and len({n for _, n in last}) == 1

    def state() -> str:
        try:
            left = work()
        except redis.RedisError as exc:
            left = [repr(exc)]
        return f"{log()}\nalert work {left}; looks {looks[-3:]}"

    return wait_for(quiet, timeout, "no alert work left", state)


class OwnedRedis:
    """A redis-server on a unix socket in `directory`, owned by the test: it may be
    killed (-9), restarted on the same files (AOF replayed, or a blank instance), stopped
    with SIGSTOP and paused with DEBUG SLEEP."""

    def __init__(self, directory: Path, *, aof: bool = True) -> None:
        self.directory, self.aof = directory, aof
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        return self.directory / "redis.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=60)

    def start(self) -> OwnedRedis:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        args = [
            redis_binary(), "--port", "0", "--unixsocket", str(self.socket),
            "--unixsocketperm", "700", "--dir", str(self.directory), "--logfile", "redis.log",
            "--save", "", "--appendonly", "yes" if self.aof else "no",
            "--appendfsync", "everysec", "--enable-debug-command", "local",
        ]  # fmt: skip
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.socket.exists() and redis.Redis.from_url(self.url).ping():
                    return self
            except redis.RedisError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start in {self.directory}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no last fsync, as in a crash."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def restart(self, *, blank: bool = False) -> None:
        """Kill it and start it again on the same socket: replaying its AOF, or with
        `blank`, as a new empty instance (its files removed)."""
        self.kill()
        if blank:
            for f in self.directory.iterdir():
                if f.name != "redis.log":
                    if f.is_dir():
                        for g in f.iterdir():
                            g.unlink()
                        f.rmdir()
                    else:
                        f.unlink()
        self.start()

    def sleep(self, seconds: float) -> threading.Thread:
        """`DEBUG SLEEP seconds` from a thread: Redis answers nobody until it is over."""

        def run() -> None:
            with redis.Redis.from_url(self.url, socket_timeout=seconds + 30) as c:
                c.execute_command("DEBUG", "SLEEP", str(seconds))

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        """Stop it and remove its directory (socket, AOF, log)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.terminate()
            self.proc.wait(timeout=10)
        shutil.rmtree(self.directory, ignore_errors=True)


class HangingFeeds(FeedServer):
    """A feed server that, while `hang` is set, answers nothing until it is cleared."""

    def __init__(self) -> None:
        super().__init__()
        self.hang = threading.Event()

    def start(self) -> HangingFeeds:
        super().start()
        assert self._server is not None
        handler: type[BaseHTTPRequestHandler] = self._server.RequestHandlerClass  # type: ignore[assignment]
        served = handler.do_GET  # type: ignore[attr-defined]
        owner = self

        def do_get(h: BaseHTTPRequestHandler) -> None:
            while owner.hang.is_set():
                time.sleep(0.05)
            served(h)

        handler.do_GET = do_get  # type: ignore[attr-defined]
        return self


@dataclass
class Script:
    """A scripted incident: each `advance()` adds the next update, marked `[U<n>]`, and
    serves the new document."""

    feeds: FeedServer
    incident: FakeIncident = field(
        default_factory=lambda: FakeIncident("chaos00inc01", "Elevated API errors")
    )
    statuses: tuple[str, ...] = ("investigating", "identified", "monitoring")

    @property
    def n(self) -> int:
        return len(self.incident.updates)

    def advance(self) -> str:
        n = self.n + 1
        status = self.statuses[min(n - 1, len(self.statuses) - 1)]
        minute = n  # one minute apart, in the provider's order
        at = f"2024-12-26T19:{minute:02d}:00.000Z"
        self.incident.add(status, at, f"[U{n}] Update number {n}.")
        self.feeds.put(FEED_PATH, summary_json([self.incident]))
        return f"[U{n}]"


def marker(message: dict[str, Any]) -> str | None:
    text = json.dumps(message.get("body", {}))
    start = text.find("[U")
    return text[start : text.find("]", start) + 1] if start >= 0 else None


def slack_posts(slack: FakeSlack) -> list[dict[str, Any]]:
    return [m for m in slack.messages if m["method"] == "chat.postMessage"]


def posts_per_update(slack: FakeSlack) -> Counter[tuple[str, str | None]]:
    """(channel, update marker) → how many times Slack accepted it: a stand-in for
    posts per dedup key when each channel is one subscriber and each update one alert."""
    return Counter((str(m["channel"]), marker(m)) for m in slack_posts(slack))


class Service(Served):
    """A served `notifier` process (tests.support.served), and its worker's pool."""

    def pool(self) -> list[int]:
        """The worker's pool processes (children of the worker's main process)."""
        return children(self.child("worker"))


def local_tcp_ports(pids: set[int]) -> set[int]:
    """The local ports of the IPv4 TCP sockets these processes hold (Linux /proc)."""
    inodes: set[str] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        cols = line.split()
        if cols[9] in inodes:
            ports.add(int(cols[1].split(":")[1], 16))
    return ports


class PeerSlack(FakeSlack):
    """The fake Slack, also noting the client port of every chat.postMessage. With
    `hold_after` set, the posts after that many wait, unanswered, until `release` is
    set: a fan-out is then certainly under way (and not over) when a test breaks it."""

    def __init__(self, hold_after: int | None = None) -> None:
        super().__init__()
        self.peers: list[int] = []
        self.hold_after, self.held = hold_after, 0
        self.first_held: float | None = None  # time.monotonic() of the first post held
        self.release = threading.Event()
        self._gate = threading.Lock()

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        if h.path.endswith("chat.postMessage"):
            with self._gate:
                self.peers.append(int(h.client_address[1]))
                hold = self.hold_after is not None and len(self.peers) > self.hold_after
                self.held += hold
                if hold and self.first_held is None:
                    self.first_held = time.monotonic()
            if hold:
                self.release.wait(60)
        with contextlib.suppress(OSError):  # a held post's client may be dead by now
            super()._serve(h)

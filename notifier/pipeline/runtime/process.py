"""What one worker or beat process loads once and every task in it then shares.

The settings, the Redis URL and the parsed subscription file are read when the
process starts, never per task: the file is parsed once, and a broken one stops the
process at start rather than failing every task. The `Runtime` holds Redis
connections, so it is built per pid: a forked pool process inherits the parsed
`Config` but never its parent's sockets.

Reload (`notifier.store.ops.reloads`): before handing out its Runtime, a process looks at
the config generation in Redis, at most once per `CHECK_EVERY_S`. When a reload moved
it on, the process parses the file again; a good file gets a new Runtime (tasks that
already hold the old one finish under it), a broken one is logged and changes nothing.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field

import redis

from notifier import logs
from notifier.config.load import Config, ConfigError, load_config
from notifier.config.settings import Settings
from notifier.pipeline.runtime.wiring import Runtime
from notifier.store.conn.connect import connect
from notifier.store.ops.reloads import ConfigReloads, load_hashed

log = logging.getLogger(__name__)

CHECK_EVERY_S = 1.0


@dataclass
class LoadedConfig:
    """What one process loaded (settings, Redis URL, the parsed subscription file), and
    the Runtime it hands out: built per pid, rebuilt after a reload."""

    settings: Settings
    redis_url: str
    config: Config
    generation: int = 0  # the reload generation `config` belongs to
    _runtime: tuple[int, Runtime] | None = field(default=None, init=False, repr=False)
    _checked: tuple[int, float] | None = field(default=None, init=False, repr=False)
    _reloads: tuple[int, ConfigReloads] | None = field(default=None, init=False, repr=False)

    @classmethod
    def load(cls, settings: Settings, redis_url: str) -> LoadedConfig:
        """Parse the subscription file `settings` names; raises `ConfigError`."""
        config = load_config(settings.config_path())
        ctx = cls(settings, redis_url, config)
        ctx.generation = ctx._generation_now() or 0
        return ctx

    def runtime(self) -> Runtime:
        """This process's Runtime, built on first use, again after a fork, and again
        after a reload to a good file."""
        self.refresh()
        return self.prepare()

    def prepare(self) -> Runtime:
        """This process's Runtime, built now if need be, without asking Redis anything: a new pool
        process does it before its first task, which may be a page (building it took
        about 36 ms of CPU on an idle machine, several times that beside a fan-out)."""
        pid = os.getpid()
        if self._runtime is None or self._runtime[0] != pid:
            self._runtime = (pid, Runtime.build(self.settings, self.redis_url, self.config))
        return self._runtime[1]

    def refresh(self) -> bool:
        """Load the subscription file again if a reload asked for it since; whether the
        config changed. Asks Redis at most once per CHECK_EVERY_S."""
        now, pid = time.monotonic(), os.getpid()
        checked = self._checked
        if checked is not None and checked[0] == pid and now - checked[1] < CHECK_EVERY_S:
            return False
        self._checked = (pid, now)
        generation = self._generation_now()
        if generation is None or generation == self.generation:
            return False
        self.generation = generation  # a broken file is reported once, not per task
        path = self.settings.config_path()
        try:
            loaded = load_hashed(path)
        except ConfigError as exc:
            log.error("config reload failed; keeping the config in force: %s", exc)
            return False
        self.config = loaded.config
        logs.add_secrets(self.config.secret_values())
        self._runtime = None
        log.info("config reloaded from %s (%s, generation %d)", path, loaded.hash, generation)
        return True

    def _generation_now(self) -> int | None:
        pid = os.getpid()
        if self._reloads is None or self._reloads[0] != pid:
            client = connect(
                self.redis_url,
                failover_wait=self.settings.redis_failover_wait,
                socket_timeout=5,
            )
            self._reloads = (pid, ConfigReloads(client, self.settings.key_prefix))
        try:
            return self._reloads[1].generation()
        except redis.RedisError:
            return None  # the task's own Redis use will say so

    def secret_values(self) -> list[str]:
        """Every secret this process may handle, the settings' and the subscription
        file's (per-subscriber webhook URLs), for the log redaction filter."""
        return self.settings.secret_values() + self.config.secret_values()

"""What one worker or beat process loads once and every task in it then shares.

The settings, the Redis URL and the parsed subscription file are read when the
process starts, never per task: the file is parsed once, and a broken one stops the
process at start rather than failing every task. The `Runtime` holds Redis
connections, so it is built per pid: a forked pool process inherits the parsed
`Config` but never its parent's sockets. Hot reload is out of scope.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from notifier.config.load import Config, load_config
from notifier.config.settings import Settings
from notifier.pipeline.service import Runtime


@dataclass
class ProcessContext:
    settings: Settings
    redis_url: str
    config: Config
    _runtime: tuple[int, Runtime] | None = field(default=None, init=False, repr=False)

    @classmethod
    def load(cls, settings: Settings, redis_url: str) -> ProcessContext:
        """Parse the subscription file `settings` names; raises `ConfigError`."""
        return cls(settings, redis_url, load_config(settings.config_path()))

    def runtime(self) -> Runtime:
        """This process's Runtime, built on first use and again after a fork."""
        pid = os.getpid()
        if self._runtime is None or self._runtime[0] != pid:
            self._runtime = (pid, Runtime.build(self.settings, self.redis_url, self.config))
        return self._runtime[1]

    def secret_values(self) -> list[str]:
        """Every secret this process may handle, the settings' and the subscription
        file's (per-subscriber webhook URLs), for the log redaction filter."""
        return self.settings.secret_values() + self.config.secret_values()

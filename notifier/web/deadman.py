"""The dead man's switch: while the service is healthy, call NOTIFIER_HEARTBEAT_URL
every `every` seconds (a healthchecks.io or Cronitor check). When the service goes
blind, or this process dies, the calls stop and that service pages someone outside.

The URL is a secret (it often holds the check's token): it is never logged, which is
why the call is made with urllib (httpx logs every URL it requests at INFO).
"""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable

from notifier.pipeline.runtime.health import Health

log = logging.getLogger(__name__)


class DeadMansSwitch:
    def __init__(
        self, url: str, every: float, health: Callable[[], Health], timeout: float = 10.0
    ) -> None:
        self.url, self.every, self.health, self.timeout = url, every, health, timeout
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._was_healthy = True

    def start(self) -> DeadMansSwitch:
        self._thread = threading.Thread(target=self._loop, name="dead-mans-switch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 1)

    def _loop(self) -> None:
        while True:
            self.once()
            if self._stop.wait(self.every):
                return

    def once(self) -> bool:
        """Call the URL if the service is healthy now; True when the call succeeded."""
        health = self.health()
        if not health.healthy:
            if self._was_healthy:
                names = ", ".join(c.name for c in health.failing())
                log.warning("not calling the heartbeat URL: unhealthy (%s)", names)
            self._was_healthy = False
            return False
        if not self._was_healthy:
            log.info("healthy again: calling the heartbeat URL")
        self._was_healthy = True
        request = urllib.request.Request(self.url, headers={"User-Agent": "notifier"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read(1024)
        except urllib.error.HTTPError as exc:
            log.warning("heartbeat URL call failed: HTTP status %d", exc.code)
            return False
        except (OSError, ValueError) as exc:  # URLError is an OSError; ValueError: a bad URL
            log.warning("heartbeat URL call failed: %s", type(exc).__name__)
            return False
        return True

"""The Redis a test session or a benchmark run uses: the one it was given, or its own.

Never any other. Not NOTIFIER_REDIS_URL: that names the developer's own Redis (or
production's), and a test run writes, times out and deletes keys there. Not whatever
answers on 127.0.0.1:6379 either, and not even a ping to find out: a Redis nobody
named for this run is not ours to touch.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from notifier.store.conn.server import PrivateRedis


@contextmanager
def own_redis(given: Sequence[str]) -> Iterator[str]:
    """The URL in the first of the `given` environment variables that is set; else a
    private redis-server (the embedded default's, see notifier.store.conn.server) on a unix
    socket in a fresh temporary directory, with no TCP port and no persistence, stopped
    and removed on exit."""
    for name in given:
        url = os.environ.get(name)
        if url:
            yield url
            return
    # A short path: a unix socket's path must fit in 107 bytes.
    with tempfile.TemporaryDirectory(prefix="notifier-redis-") as tmp:
        server = PrivateRedis(Path(tmp)).start(persist=False)
        try:
            yield server.url
        finally:
            server.stop()

"""Count a Redis client's round trips (made here, for cost tests)."""

from __future__ import annotations

import threading

import redis


class RoundTrips:
    """Counts requests written to the socket: a pipeline or a script call is one
    (`count`), and the commands in them (`commands`). Safe across threads (a chunk's
    deliveries run on several): `+=` alone loses counts."""

    def __init__(self, client: redis.Redis) -> None:
        self.count = 0
        self.commands = 0
        lock = threading.Lock()
        pool = client.connection_pool
        base = pool.connection_class
        counter = self

        class Counting(base):  # type: ignore[valid-type,misc]
            def send_packed_command(self, command, check_health=True):
                with lock:
                    counter.count += 1
                return super().send_packed_command(command, check_health)

            def send_command(self, *args, **kwargs):
                with lock:
                    counter.commands += 1
                return super().send_command(*args, **kwargs)

            def pack_commands(self, commands):
                with lock:
                    counter.commands += len(commands)
                return super().pack_commands(commands)

        # Connections made before would not count: closed, and forgotten.
        pool.disconnect()
        pool.reset()
        pool.connection_class = Counting


def warm_pool(client: redis.Redis, connections: int) -> None:
    """Open `connections` connections in `client`'s pool, each past its first command's
    health check, as a running worker's pool is once as many of its threads have been
    busy at once (a new connection's set-up is then not counted as a delivery's)."""
    pool = client.connection_pool
    held = [pool.get_connection() for _ in range(connections)]
    try:
        for conn in held:
            conn.send_command("PING")
            conn.read_response()
    finally:
        for conn in held:
            pool.release(conn)

"""Commands of several stores in one Redis round trip.

Each store keeps its own keys and formats: it queues its command on `batch.pipe`
and hands back `batch.later(parse)`, whose `get()` gives the parsed reply once
the batch has run. A delivery reads its lock, alert, log outcome and sent marks
this way, and writes its outcome, state, marks, thread ref, metrics and lock
release in one more: on a remote Redis each round trip is most of the cost.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

import redis
from redis.client import Pipeline

from notifier.store.conn.durable import execute_confirmed

T = TypeVar("T")

# A pipeline that queues commands of several stores for one round trip. Store methods
# that write take `pipe: Pipe | None`: the caller's batch, or None for their own.
Pipe = Pipeline


class Batch:
    def __init__(self, client: redis.Redis) -> None:
        # Not MULTI/EXEC: each command stands alone; the pipeline keeps their order.
        self.client = client
        self.pipe: Pipe = client.pipeline(transaction=False)
        self._results: list[Any] | None = None

    def later(self, parse: Callable[[Any], T]) -> Later[T]:
        """The reply of the command queued last, parsed once the batch has run."""
        return Later(self, len(self.pipe) - 1, parse)

    def execute(self, confirm: str | None = None) -> None:
        """Run the batch; with `confirm` (what it protects, for the log), its writes are
        confirmed by a replica in the same round trip (`durable`)."""
        if confirm is not None:
            self._results = execute_confirmed(self.client, self.pipe, confirm)
        else:
            self._results = self.pipe.execute() if len(self.pipe) else []

    def result(self, index: int) -> Any:
        if self._results is None:
            raise RuntimeError("the batch has not run yet")
        return self._results[index]


@dataclass(frozen=True)
class Later(Generic[T]):
    batch: Batch
    index: int
    parse: Callable[[Any], T]

    def get(self) -> T:
        return self.parse(self.batch.result(self.index))


def read_now(client: redis.Redis, queue: Callable[[Batch], Later[T]]) -> T:
    """Run one store read on its own: `queue` puts it on a batch of its own."""
    batch = Batch(client)
    later = queue(batch)
    batch.execute()
    return later.get()


@contextmanager
def writing(client: redis.Redis, pipe: Pipe | None = None) -> Iterator[Pipe]:
    """The caller's `pipe` when it batches its writes; else a pipeline of our own,
    sent when the block ends."""
    if pipe is not None:
        yield pipe
        return
    own = client.pipeline(transaction=False)
    yield own
    own.execute()


@overload
def text(value: None) -> None: ...
@overload
def text(value: bytes | str) -> str: ...
@overload
def text(value: object) -> str | None: ...
def text(value: object) -> str | None:
    """A Redis reply as str (None stays None). The one decoder of replies for every store."""
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)

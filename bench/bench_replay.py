"""Replay throughput on the corpus's Statuspage Atom histories, next to parsing alone.

Each series (GitHub, DigitalOcean, Symantec, StreamYard captures, in time order)
is replayed from an empty state, round after round, for about `budget_s` seconds
per row. Rows, measured side by side in one run:

- `parse only`: what reading the files costs, nothing else;
- `replay (parse + diff)`: what `notifier replay` does per snapshot;
- `replay + state json`: also stores and reloads the ProviderState each step, as
  the poller does through Redis (without the network);
- `diff only`: the diff over documents parsed beforehand, so its own cost shows.

Returns an empty list when the corpus is absent.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

from notifier.diff.engine import diff
from notifier.feeds import registry
from notifier.models import FeedDocument
from notifier.store.feeds.snapshot import ProviderState

ROOT = Path(__file__).resolve().parent.parent
Series = list[tuple[datetime, bytes]]


def _corpus() -> Path | None:
    env = os.environ.get("NOTIFIER_FEED_CORPUS")
    path = Path(env) if env else ROOT.parent / "shared" / "feeds"
    return path if path.is_dir() else None


def _capture_time(path: Path) -> datetime:
    """Corpus names end in the capture time, e.g. `..._2023-02-08T0426Z.atom`."""
    tail = path.stem.rsplit("_", 1)[-1]
    for fmt in ("%Y-%m-%dT%H%MZ", "%Y-%m-%d"):
        try:
            return datetime.strptime(tail, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return datetime(2000, 1, 1, tzinfo=UTC)


def _series(corpus: Path) -> dict[str, Series]:
    out: dict[str, Series] = {}
    for path in sorted((corpus / "statuspage").rglob("*.atom")):
        name = path.parent.name if path.parent.name != "statuspage" else path.stem
        out.setdefault(name, []).append((_capture_time(path), path.read_bytes()))
    return {k: sorted(v, key=lambda s: s[0]) for k, v in out.items()}


def _rate(
    label: str, step: Callable[[], int], snapshots: int, budget_s: float
) -> dict[str, object]:
    rounds, events, started = 0, 0, time.perf_counter()
    while True:
        events += step()
        rounds += 1
        elapsed = time.perf_counter() - started
        if elapsed >= budget_s:
            break
    n = rounds * snapshots
    return {
        "what": label,
        "snapshots": n,
        "snapshots_per_s": n / elapsed,
        "us_per_snapshot": elapsed / n * 1e6,
        "events_per_round": events // rounds,
    }


def run(budget_s: float = 2.0) -> list[dict[str, object]]:
    corpus = _corpus()
    if corpus is None:
        return []
    series = _series(corpus)
    count = sum(len(s) for s in series.values())
    parsed = {
        k: [(t, registry.parse(b, "statuspage-atom", k)) for t, b in s] for k, s in series.items()
    }

    def parse_only() -> int:
        for name, snaps in series.items():
            for _, body in snaps:
                registry.parse(body, "statuspage-atom", name)
        return 0

    def replay(store_json: bool) -> Callable[[], int]:
        def step() -> int:
            events = 0
            for name, snaps in series.items():
                docs = ((t, registry.parse(b, "statuspage-atom", name)) for t, b in snaps)
                events += _diff_all(docs, store_json)
            return events

        return step

    def diff_only() -> int:
        return sum(_diff_all(docs, False) for docs in parsed.values())

    rows = [
        _rate("parse only", parse_only, count, budget_s),
        _rate("replay (parse + diff)", replay(False), count, budget_s),
        _rate("replay + state json", replay(True), count, budget_s),
        _rate("diff only", diff_only, count, budget_s),
    ]
    base = float(str(rows[0]["us_per_snapshot"]))
    for row in rows:
        row["vs_parse"] = float(str(row["us_per_snapshot"])) / base
    return rows


def _diff_all(docs: Iterable[tuple[datetime, FeedDocument]], store_json: bool) -> int:
    state: ProviderState | None = None
    events = 0
    for now, doc in docs:
        result = diff(state, doc, now)
        events += len(result.events)
        state = ProviderState.from_json(result.state.to_json()) if store_json else result.state
    return events


if __name__ == "__main__":
    for r in run():
        print(r)

"""Replay at speed: a year and more of daily history captures, next to a plain reader.

The captures are generated (never committed): 1,500 daily `history.atom` documents of
25 entries each, made from the real GitHub captures of the corpus by
`tests.support.history_series` (real titles, labels, bodies and update rhythm, re-dated,
with backfills). Rows, measured side by side in one run over the same files:

- `plain reader`: read each file, parse the Atom (ElementTree) and each entry's update
  stamps and labels (a regex), and diff the (entry, update) id sets against all seen
  before: the least a reader of these files can do;
- `notifier replay`: what `notifier replay DIR` does without `--config`: parse (the
  service's parser), diff, one event per incident and poll (`replay_polls`);
- `replay + state json`: also stores and reloads the ProviderState after each file, as
  the poller does through Redis (without the network);
- `replay --config`: also plans every alert (annotate, route, group, claim, render).

`vs_plain` is each row's time over the plain reader's; the target for `notifier replay`
is at most 3. Those two rows run interleaved, best of three rounds; the others once.
Parsing caches are cleared before each run, so no run profits from another.
Returns an empty list when the corpus is absent.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from notifier.cli.replay import run_replay
from notifier.diff.engine import diff
from notifier.feeds import registry
from notifier.feeds.formats import statuspage_xml
from notifier.pipeline.replay import replay_polls
from notifier.store.feeds.snapshot import ProviderState
from tests.support.history_series import templates, timeline, write_series

ROOT = Path(__file__).resolve().parent.parent
DAYS = 1500
START = datetime(2021, 1, 1, tzinfo=UTC)
PROVIDER = "example"
ATOM = "{http://www.w3.org/2005/Atom}"
_UPDATE = re.compile(r"<small>(.*?)</small>.*?<strong>(.*?)</strong>", re.S)


def _corpus() -> Path | None:
    env = os.environ.get("NOTIFIER_FEED_CORPUS")
    path = Path(env) if env else ROOT.parent / "shared" / "feeds"
    return path if path.is_dir() else None


def plain_reader(files: list[Path]) -> int:
    """Parse each file and diff the (entry, update) ids against all seen before."""
    seen: set[tuple[str, str]] = set()
    new = 0
    for path in files:
        root = ET.fromstring(path.read_bytes())
        for entry in root.iter(f"{ATOM}entry"):
            ident = entry.findtext(f"{ATOM}id") or ""
            content = entry.findtext(f"{ATOM}content") or ""
            keys = {(ident, "")} | {(ident, a + b) for a, b in _UPDATE.findall(content)}
            new += len(keys - seen)
            seen |= keys
    return new


def replay_events(root: Path) -> int:
    return sum(len(events) for _, events in replay_polls(root, {PROVIDER: "statuspage-atom"}))


def replay_with_state(files: list[Path]) -> int:
    state: ProviderState | None = None
    events = 0
    for path in files:
        at = datetime.strptime(path.stem, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        doc = registry.parse(path.read_bytes(), "statuspage-atom", PROVIDER)
        result = diff(state, doc, at)
        events += len(result.messages)
        state = ProviderState.from_json(result.state.to_json())
    return events


def replay_planned(root: Path, config: Path) -> int:
    out = io.StringIO()
    run_replay(root, config, out, io.StringIO())
    return out.getvalue().count('"type":"alert"')


def _once(step: Callable[[], int]) -> tuple[float, int]:
    statuspage_xml._entry_incident.cache_clear()
    started = time.perf_counter()
    count = step()
    return time.perf_counter() - started, count


def _row(label: str, times: list[float], count: int, files: int) -> dict[str, object]:
    best = min(times)
    return {
        "what": label,
        "documents": files,
        "rounds": len(times),
        "seconds": best,
        "ms_per_document": best / files * 1e3,
        "found": count,
    }


def run(days: int = DAYS, rounds: int = 3) -> list[dict[str, object]]:
    corpus = _corpus()
    if corpus is None:
        return []
    stories = timeline(templates(corpus), START, days)
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        root = write_series(Path(tmp) / "captures", PROVIDER, stories, START, days)
        files = sorted((root / PROVIDER).iterdir())
        config = Path(tmp) / "subscriptions.yaml"
        config.write_text(
            f"providers:\n  - id: {PROVIDER}\n    name: Example\n"
            "    feed: {url: 'https://status.example.com/history.atom', "
            "format: statuspage-atom}\n"
            "subscribers:\n  - name: ops\n    slack: {channel: '#ops'}\n"
        )
        # The two rows the target compares run interleaved, best of `rounds`, so a load
        # spike on a shared machine does not land on one of them only.
        plain: list[float] = []
        replayed: list[float] = []
        for _ in range(rounds):
            seconds, found = _once(lambda: plain_reader(files))
            plain.append(seconds)
            seconds, events = _once(lambda: replay_events(root))
            replayed.append(seconds)
        state, _ = _once(lambda: replay_with_state(files))
        planned, alerts = _once(lambda: replay_planned(root, config))
        n = len(files)
        rows = [
            _row("plain reader (parse + id-set diff)", plain, found, n),
            _row("notifier replay (events)", replayed, events, n),
            _row("replay + state json", [state], events, n),
            _row("replay --config (alerts)", [planned], alerts, n),
        ]
    base = float(str(rows[0]["seconds"]))
    for row in rows:
        row["vs_plain"] = float(str(row["seconds"])) / base
    return rows


if __name__ == "__main__":
    for r in run():
        print(r)

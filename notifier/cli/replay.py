"""`notifier replay DIR [--config FILE]`: the change events saved snapshots show.

Prints JSON Lines on stdout, one `{"type":"event",...}` per event; with
`--config`, each event is followed by the alerts the planner makes of it. With
`--html OUT.html`, it also writes the timeline and the alerts as one self-contained
page (`notifier.web.console.report`). Files
that cannot be read or parsed are reported on stderr and skipped (exit 0).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from notifier.pipeline.archive import Seen
from notifier.pipeline.replay import (
    ReplayPlanner,
    Snapshot,
    event_line,
    provider_dirs,
    replay_polls,
)
from notifier.store.feeds.snapshot import ProviderState, recent_incidents
from notifier.web.console.report import ReplayRecord


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "replay",
        help="Replay saved feed snapshots offline and print the change events as JSON Lines.",
        description="DIR holds DIR/<provider-id>/<YYYYMMDDTHHMMSSZ>.<ext>, one file per capture.",
    )
    parser.add_argument("dir", type=Path, metavar="DIR", help="Directory of snapshots.")
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="Subscription file: its feed formats, and print the alerts each event makes.",
    )
    parser.add_argument(
        "--html",
        type=Path,
        metavar="OUT",
        help="Also write the timeline and the alerts as one self-contained HTML file.",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    return run_replay(args.dir, args.config, sys.stdout, sys.stderr, args.html)


def run_replay(
    root: Path, config_path: Path | None, out: TextIO, err: TextIO, html: Path | None = None
) -> int:
    if not root.is_dir():
        print(f"notifier replay: {root}: not a directory", file=err)
        return 2
    formats: dict[str, str] = {}
    names: dict[str, str] = {}
    planner: ReplayPlanner | None = None
    if config_path is not None:
        loaded = _load(config_path, err)
        if loaded is None:
            return 2
        formats, planner = loaded
        names = {p: planner.config.provider_name(p) for p in formats}
    if not provider_dirs(root):
        print(f"notifier replay: {root}: no provider folders in it; expected "
              f"{root}/<provider-id>/<YYYYMMDDTHHMMSSZ>.<ext>, one file per capture "
              "(e.g. openai/20241226T190500Z.json)", file=err)  # fmt: skip
        return 2
    record = ReplayRecord(names=names)
    seen = Seen()  # the incidents the diff knows, as `notifier history import` counts them
    observer = _observer(planner, record, seen)

    def report(message: str) -> None:
        print(f"notifier replay: {message}", file=err)

    try:
        # One snapshot's events are one poll's: its late news makes one catch-up each.
        # Each snapshot is planned before the next one is read (no look-ahead), so no
        # decision for a capture can see a later capture's state.
        for snap, events in replay_polls(root, formats, report, observer, names):
            for event in events:
                _emit(out, event_line(snap, event))
                for alert in planner.alerts(event, snap.at) if planner else ():
                    record.alerts.append(alert)
                    _emit(out, {"type": "alert", **alert})
            for alert in planner.catch_ups(events, snap.at) if planner else ():
                record.alerts.append(alert)
                _emit(out, {"type": "alert", **alert})
        for alert in planner.finish() if planner else ():
            record.alerts.append(alert)
            _emit(out, {"type": "alert", **alert})
    except BrokenPipeError:  # `| head` closed the pipe: not an error
        return 0
    print(f"notifier replay: {seen.summary()}", file=err)
    if html is not None:
        return _write_html(html, record, root, err)
    return 0


def _write_html(path: Path, record: ReplayRecord, root: Path, err: TextIO) -> int:
    from notifier.web.console.report import build

    try:
        path.write_text(build(record, root.name or str(root)), encoding="utf-8")
    except OSError as exc:
        print(f"notifier replay: cannot write {path}: {exc.strerror or exc}", file=err)
        return 2
    print(f"notifier replay: wrote {path}", file=err)
    return 0


def _observer(
    planner: ReplayPlanner | None, record: ReplayRecord, seen: Seen
) -> Callable[[Snapshot, ProviderState], None]:
    """Teach the planner's world what the service's incident index would hold, and
    keep each provider's last state for the HTML report."""

    def on_state(snap: Snapshot, state: ProviderState) -> None:
        seen.observe(snap, state)
        record.states[snap.provider] = state
        record.last = snap.at
        if planner is not None:
            for incident in recent_incidents(state, snap.at):
                planner.observe(incident)

    return on_state


def _load(config_path: Path, err: TextIO) -> tuple[dict[str, str], ReplayPlanner] | None:
    from notifier.config.load import ConfigError, load_config

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        for line in exc.errors:
            print(line, file=err)
        return None
    formats = {p.id: p.format for p in config.resolved_providers() if p.format}
    return formats, ReplayPlanner(config)


def _emit(out: TextIO, record: dict[str, Any]) -> None:
    out.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n")

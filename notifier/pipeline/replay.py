"""`notifier replay`: feed saved snapshots through the service's parse → diff.

Offline and deterministic. DIR holds `DIR/<provider-id>/<stamp>.<ext>` where the
stamp is the capture time in UTC, `YYYYMMDDTHHMMSSZ`. Every provider's files run
in stamp order (ties: provider id, then file name) through the same
`notifier.feeds.registry.parse` and `notifier.diff.engine.diff` the poller uses, with a
throwaway in-memory `ProviderState` per provider; the stamp is the poll's `now`.
A file that cannot be read or parsed is reported and skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from notifier.diff.engine import diff
from notifier.feeds import registry
from notifier.models import ChangeEvent, iso
from notifier.store.snapshot import ProviderState

_STAMP = re.compile(r"^(\d{8}T\d{6}Z)\.[^/]+$")

Report = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Snapshot:
    provider: str
    at: datetime
    path: Path


def parse_stamp(name: str) -> datetime | None:
    """`20230208T042600Z.atom` → that UTC time; None when the name is not a stamp."""
    match = _STAMP.match(name)
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def discover(root: Path, report: Report) -> list[Snapshot]:
    """All snapshot files under `root`, in replay order; odd names are reported."""
    found: list[Snapshot] = []
    for provider_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if provider_dir.name.startswith("."):
            continue
        for path in sorted(provider_dir.iterdir()):
            if path.name.startswith("."):
                continue
            at = parse_stamp(path.name)
            if at is None:
                report(f"{path}: skipped: name is not <YYYYMMDDTHHMMSSZ>.<ext>")
                continue
            found.append(Snapshot(provider_dir.name, at, path))
    found.sort(key=lambda s: (s.at, s.provider, s.path.name))
    return found


def replay(
    root: Path,
    formats: Mapping[str, str] | None = None,
    report: Report = lambda _: None,
    on_state: Callable[[Snapshot, ProviderState], None] | None = None,
) -> Iterator[tuple[Snapshot, ChangeEvent]]:
    """Yield (snapshot, event) for every change the snapshots show, in order.

    `on_state` sees each provider's new state before that snapshot's events, as
    the service commits it (and updates its incident index) after each poll.
    """
    states: dict[str, ProviderState | None] = {}
    for snap in discover(root, report):
        fmt = (formats or {}).get(snap.provider) or "auto"
        try:
            doc = registry.parse(snap.path.read_bytes(), fmt, snap.provider)
        except Exception as exc:  # one bad file must not stop the replay
            report(f"{snap.path}: skipped: {_one_line(exc)}")
            continue
        result = diff(states.get(snap.provider), doc, snap.at)
        states[snap.provider] = result.state
        if on_state is not None:
            on_state(snap, result.state)
        for event in result.events:
            yield snap, event


def event_line(snap: Snapshot, event: ChangeEvent) -> dict[str, Any]:
    """The JSON Lines record of one event.

    `status` is the update's status for events about an update (with `update_at`),
    else the incident's status after the change; `previous`/`current` when set.
    """
    line: dict[str, Any] = {
        "type": "event",
        "at": iso(snap.at),
        "provider": event.provider,
        "incident_id": event.incident_id,
        "kind": event.kind.value,
        "event_id": event.event_id,
    }
    if event.update is not None:
        line["status"] = event.update.status.value
        line["update_at"] = iso(event.update.at)
    else:
        line["status"] = event.incident.status.value
    if event.previous is not None:
        line["previous"] = event.previous
    if event.current is not None:
        line["current"] = event.current
    line["title"] = event.incident.title
    return line


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:299] + "…"


__all__ = ["Snapshot", "discover", "event_line", "parse_stamp", "replay"]

"""The incidents a directory of saved snapshots shows, for `notifier history import`
and for the count `notifier replay` reports.

The incidents are those the replay's diff knows after each snapshot (its per-provider
state, which also remembers the incidents a first snapshot shows as already closed),
so the import and the replay count the same ones. Each is stored in its fullest form:
the newest parsed document that lists it (every update), else the diff's snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from notifier.feeds import registry
from notifier.models import Incident
from notifier.pipeline.replay import Report, Snapshot, discover, replay
from notifier.store.feeds.snapshot import ProviderState

Key = tuple[str, str]  # (provider, incident id)


@dataclass
class Seen:
    """What a replay's states held over time: every incident, and the snapshots read."""

    incidents: dict[Key, Incident] = field(default_factory=dict)
    snapshots: int = 0

    def observe(self, snap: Snapshot, state: ProviderState) -> None:
        self.snapshots += 1
        for iid, known in state.incidents.items():
            self.incidents[(snap.provider, iid)] = known.snapshot

    def summary(self) -> str:
        providers = sorted({p for p, _ in self.incidents})
        per = ", ".join(f"{p} {sum(1 for q, _ in self.incidents if q == p)}" for p in providers)
        return (f"{len(self.incidents)} incidents in {self.snapshots} snapshots"
                + (f" ({per})" if per else ""))  # fmt: skip


def snapshot_incidents(
    root: Path, formats: Mapping[str, str] | None = None, report: Report = lambda _: None
) -> Seen:
    """Every incident the snapshots under `root` show, fullest form first."""
    seen = Seen()
    for _ in replay(root, formats, report, seen.observe):
        pass
    full: dict[Key, Incident] = {}
    for snap in discover(root, lambda _: None):
        try:
            doc = registry.parse(snap.path.read_bytes(), (formats or {}).get(snap.provider)
                                 or "auto", snap.provider)  # fmt: skip
        except Exception:  # the replay above reported it
            continue
        for inc in doc.incidents:
            full[(snap.provider, inc.id)] = inc
    for key in seen.incidents:
        if key in full:
            seen.incidents[key] = full[key]
    return seen

"""`notifier replay`: feed saved snapshots through the service's parse → diff.

Offline and deterministic. DIR holds `DIR/<provider-id>/<stamp>.<ext>` where the
stamp is the capture time in UTC, `YYYYMMDDTHHMMSSZ`. Every provider's files run
in stamp order (ties: provider id, then file name) through the same
`notifier.feeds.registry.parse` and `notifier.diff.engine.diff` the poller uses, with a
throwaway in-memory `ProviderState` per provider; the stamp is the poll's `now`.
A file that cannot be read or parsed is reported and skipped.

History lookups read what a live poll would have fetched: when incidents leave an
active list, the newest `DIR/<provider-id>/history/<stamp>.json` at or before the
snapshot's stamp stands in for the provider's `/api/v2/incidents.json` (the same
format), so a resolution carries the provider's final update. Without such a
folder there are no lookups, and an incident that leaves an active list is
resolved on absence, at the second snapshot that lacks it.

`ReplayPlanner` then runs each event through the service's planner with in-memory
stores and a world it learns from the events it is shown; each alert's `text` is
what the console channel would print of it. A follow-up (incidents that joined a
cascade) is shown when it would go out: before the first event at or after its due
time, or by `finish` at the end, naming every incident that joined it until then.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from notifier.annotate.correlate import with_history
from notifier.channels import kinds
from notifier.channels.console.text import render_text
from notifier.config.schema import Config
from notifier.diff.engine import diff
from notifier.diff.facts import PollFacts
from notifier.feeds import registry
from notifier.feeds.history import Lookups, read_history
from notifier.models import Alert, AlertKind, ChangeEvent, Incident, iso
from notifier.pipeline.ingest.poll import left_active
from notifier.pipeline.plan.catchup import plan_catch_ups
from notifier.pipeline.plan.event import process_event
from notifier.pipeline.runtime.destinations import Destinations
from notifier.route.match import FEED_EVENTS
from notifier.store.delivery.alerts import InMemoryAlertStore
from notifier.store.delivery.followups import InMemoryFollowUps
from notifier.store.delivery.status import AlertStatus
from notifier.store.delivery.threads import IncidentRef, InMemoryThreadStore
from notifier.store.feeds.snapshot import ProviderState

_STAMP = re.compile(r"^(\d{8}T\d{6}Z)\.[^/]+$")
HISTORY_DIR = "history"  # DIR/<provider-id>/history/<stamp>.json: saved history documents

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


def provider_dirs(root: Path) -> list[Path]:
    """The provider sub-folders of `root` (hidden ones left out), sorted."""
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def discover(root: Path, report: Report) -> list[Snapshot]:
    """All snapshot files under `root`, in replay order; odd names are reported."""
    found: list[Snapshot] = []
    for provider_dir in provider_dirs(root):
        for path in sorted(provider_dir.iterdir()):
            if path.name.startswith(".") or path.is_dir():  # e.g. history/: not polled
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
    names: Mapping[str, str] | None = None,
) -> Iterator[tuple[Snapshot, ChangeEvent]]:
    """Yield (snapshot, event) for every change the snapshots show, in order (see
    `replay_polls`, which this flattens)."""
    for snap, events in replay_polls(root, formats, report, on_state, names):
        for event in events:
            yield snap, event


def replay_polls(
    root: Path,
    formats: Mapping[str, str] | None = None,
    report: Report = lambda _: None,
    on_state: Callable[[Snapshot, ProviderState], None] | None = None,
    names: Mapping[str, str] | None = None,
) -> Iterator[tuple[Snapshot, list[ChangeEvent]]]:
    """Yield each snapshot with the events it shows (one poll), in order.

    `on_state` sees each provider's new state just before that snapshot is yielded,
    as the service commits it (and updates its incident index) after each poll; the
    next snapshot is not read until the caller asks for it, so whatever the caller
    decides for this one can only have seen what was known at its time. `names` are
    display names for notifier's own words. History lookups read the provider's saved
    history documents, if any (see the module docstring).
    """
    states: dict[str, ProviderState | None] = {}
    for snap in discover(root, report):
        fmt = snapshot_format((formats or {}).get(snap.provider), snap.path)
        try:
            doc = registry.parse(snap.path.read_bytes(), fmt, snap.provider)
        except Exception as exc:  # one bad file must not stop the replay
            report(f"{snap.path}: skipped: {_one_line(exc)}")
            continue
        previous = states.get(snap.provider)
        left = left_active(previous, doc)
        lookups = saved_lookups(root / snap.provider, snap, left, report) if left else {}
        context = PollFacts(name=(names or {}).get(snap.provider, ""), lookups=lookups)
        result = diff(previous, doc, snap.at, context)
        states[snap.provider] = result.state
        if on_state is not None:
            on_state(snap, result.state)
        yield snap, list(result.messages)  # one per incident and poll, as the poller sends on


def snapshot_format(configured: str | None, path: Path) -> str:
    """The configured format, unless the file is plainly of another kind (a `.atom`
    saved before the provider moved to its JSON API): then `auto` tells it."""
    if configured is None:
        return "auto"
    is_json = path.suffix.lower() == ".json"
    if path.suffix.lower() in XML_SUFFIXES | {".json"} and is_json != configured.endswith("-json"):
        return "auto"
    return configured


XML_SUFFIXES = frozenset({".atom", ".rss", ".xml"})


def saved_lookups(provider_dir: Path, snap: Snapshot, ids: list[str], report: Report) -> Lookups:
    """The history lookup a live poll at `snap.at` would have made of `ids`: the newest
    saved history document at or before it. No `history/` folder: no lookup (the
    absence rule alone decides); a folder with nothing that early, or an unreadable
    document: looked up and not found, as when the history cannot be reached."""
    folder = provider_dir / HISTORY_DIR
    if not folder.is_dir():
        return {}
    saved = [(at, p) for p in folder.iterdir() if (at := parse_stamp(p.name)) is not None]
    earlier = [(at, p) for at, p in saved if at <= snap.at]
    if not earlier:
        return {iid: None for iid in ids}
    path = max(earlier)[1]
    try:
        return read_history(path.read_bytes(), snap.provider, ids)
    except Exception as exc:  # as an unreadable live history: the incidents stay unconfirmed
        report(f"{path}: skipped: {_one_line(exc)}")
        return {iid: None for iid in ids}


def event_line(snap: Snapshot, event: ChangeEvent) -> dict[str, Any]:
    """The JSON Lines record of one event.

    `status` is the update's status for events about an update (with `update_at`),
    else the incident's status after the change; `previous`/`current` when set;
    `earlier` lists the updates a burst carries before that one (`{"at", "status"}`,
    oldest first), `first_seen` marks the incident's first sight;
    `"late": true` and the `gap` (`{"from", "to"}`) for late news; `note` when
    notifier speaks where the provider did not.
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
    if event.earlier:  # a burst: the updates this one event carries before `update_at`
        line["earlier"] = [{"at": iso(u.at), "status": u.status.value} for u in event.earlier]
    if event.first_seen:
        line["first_seen"] = True
    if event.previous is not None:
        line["previous"] = event.previous
    if event.current is not None:
        line["current"] = event.current
    if event.late:
        line["late"] = True
    if event.gap is not None:
        line["gap"] = {"from": iso(event.gap.start), "to": iso(event.gap.end)}
    if event.note is not None:
        line["note"] = event.note
    line["title"] = event.incident.title
    return line


class ReplayPlanner:
    """`process_event` offline: in-memory stores, a world learned from the events seen."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.threads = InMemoryThreadStore()
        self.store = InMemoryAlertStore()
        self.presentation = Destinations(config).presentation()
        self.pages_only = kinds.pages_only()
        self.followups = InMemoryFollowUps()
        self._world: dict[IncidentRef, Incident] = {}
        self._waiting: dict[str, tuple[datetime, Alert]] = {}  # follow-ups not yet out

    def observe(self, incident: Incident) -> None:
        """Teach the world an incident without alerting (e.g. a replay's first snapshot)."""
        ref = (incident.provider, incident.id)
        self._world[ref] = with_history(incident, self._world.get(ref))

    def alerts(self, event: ChangeEvent, now: datetime) -> list[dict[str, Any]]:
        """Replay lines for one event, as printed by `notifier replay`."""
        if event.kind not in FEED_EVENTS:
            self.observe(event.incident)
        lines = self.due(now, before=True)  # what went out before this event was seen
        planned = process_event(
            event, self.config, list(self._world.values()), self.threads, self.store, now,
            pages_only=self.pages_only, followups=self.followups,
        )  # fmt: skip
        for alert in planned:
            if alert.kind is AlertKind.FOLLOW_UP:
                self._waiting.setdefault(alert.dedup_key, (alert.hold_until or now, alert))
                continue
            self.store.finish(alert.dedup_key, AlertStatus.DELIVERED)  # a replay delivers at once
            lines.append(self.line(alert, now))
        return lines + self.due(now)

    def catch_ups(self, events: list[ChangeEvent], now: datetime) -> list[dict[str, Any]]:
        """Replay lines for one snapshot's late events: one catch-up per subscriber,
        channel and gap (as the service plans one poll's late news together)."""
        late = [e for e in events if e.late]
        if not late:
            return []
        planned = plan_catch_ups(late, self.config, self.store, now, pages_only=self.pages_only)
        for alert in planned:
            self.store.finish(alert.dedup_key, AlertStatus.DELIVERED)
        return [self.line(alert, now) for alert in planned]

    def due(self, now: datetime | None = None, before: bool = False) -> list[dict[str, Any]]:
        """The follow-ups due by `now` (strictly `before` it; all of them when None),
        sent as delivery sends them: the batch closes and names its members. An event
        seen at the very time a batch is due still makes it."""
        out = []
        for key, (when, alert) in sorted(self._waiting.items(), key=lambda kv: kv[1][0]):
            if now is not None and (when > now or (before and when == now)):
                continue
            del self._waiting[key]
            if self.store.status(key) is not AlertStatus.PENDING:
                continue
            self.store.finish(key, AlertStatus.DELIVERED)
            sent = replace(alert, folded=tuple(self.followups.close(key)), hold_until=when)
            out.append(self.line(sent, when))
        return out

    def finish(self) -> list[dict[str, Any]]:
        """The follow-ups still waiting when the snapshots end, at their due times."""
        return self.due(None)

    def line(self, alert: Alert, now: datetime) -> dict[str, Any]:
        """One alert's replay line. `at` is when it would go out: now, or the end of
        quiet hours; `text` is the console channel's rendering of it."""
        return {
            "type": "alert",
            "at": iso(alert.hold_until or now),
            "subscriber": alert.subscriber,
            "channel": alert.channel,
            "provider": alert.event.provider,
            "incident_id": alert.event.incident_id,
            "kind": alert.kind.value,
            "dedup_key": alert.dedup_key,
            "thread_key": alert.thread_key,
            "annotations": [
                {
                    "kind": a.kind.value,
                    "provider": a.provider,
                    "incident_id": a.incident_id,
                    "text": a.text,
                }
                for a in alert.annotations
            ],
            "text": render_text(alert, self.presentation),
        }


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:299] + "…"


__all__ = [
    "HISTORY_DIR",
    "ReplayPlanner",
    "Snapshot",
    "discover",
    "event_line",
    "parse_stamp",
    "replay",
    "replay_polls",
    "saved_lookups",
]

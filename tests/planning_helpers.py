"""Builders for the planning tests (config, routing, correlation, grouping): made here."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime

from notifier.config.catalog import Catalog, CatalogEntry
from notifier.config.load import parse_config
from notifier.config.schema import Config
from notifier.models import (
    ChangeEvent,
    EventKind,
    Impact,
    Incident,
    IncidentKind,
    Status,
    Update,
)


def _entry(
    pid: str, name: str, deps: tuple[dict[str, object], ...] = (), **extra: object
) -> CatalogEntry:
    feed = {"url": f"https://status.{pid}.example/api/v2/summary.json", "format": "statuspage-json"}
    data: dict[str, object] = {
        "id": pid,
        "name": name,
        "homepage": f"https://status.{pid}.example",
        "feed": feed,
        "depends_on": [{"source": "test catalog", **d} for d in deps],
    }
    data.update(extra)
    return CatalogEntry.model_validate(data)


def test_catalog(dependants: int = 0) -> Catalog:
    """A small catalog shaped like the real one (made here), plus `dependants`
    providers dep01.. that all run on Cloudflare."""
    entries = [
        _entry("azure", "Microsoft Azure"),
        _entry("openai", "OpenAI", ({"provider": "azure"},), components=("APIs", "ChatGPT")),
        _entry("github", "GitHub", ({"provider": "azure"},)),
        _entry("cloudflare", "Cloudflare"),
        _entry("slack", "Slack"),
        _entry(
            "microsoft365",
            "Microsoft 365",
            support="unsupported",
            feed=None,
            note="Microsoft 365 service health needs a tenant admin API.",
        ),
    ]
    for i in range(1, dependants + 1):
        entries.append(_entry(f"dep{i:02d}", f"Dependant {i:02d}", ({"provider": "cloudflare"},)))
    return Catalog(providers={e.id: e for e in entries})


test_catalog.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def config(yaml_text: str, catalog: Catalog | None = None) -> Config:
    return parse_config(textwrap.dedent(yaml_text), "test.yaml", catalog or test_catalog())


def at(text: str) -> datetime:
    """'2024-12-26 18:05' as aware UTC."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def incident(
    provider: str,
    iid: str,
    started: str,
    *,
    title: str = "Elevated errors",
    impact: Impact = Impact.MAJOR,
    status: Status = Status.INVESTIGATING,
    resolved: str | None = None,
    components: tuple[str, ...] = (),
    regions: tuple[str, ...] = (),
    kind: IncidentKind = IncidentKind.INCIDENT,
    bodies: tuple[str, ...] = (),
) -> Incident:
    start = at(started)
    updates = tuple(
        Update(at=start, status=status, body=b, key=f"k{n}") for n, b in enumerate(bodies)
    )
    return Incident(
        provider=provider,
        id=iid,
        title=title,
        url=f"https://status.{provider}.example/incidents/{iid}",
        status=Status.RESOLVED if resolved else status,
        impact=impact,
        kind=kind,
        started_at=start,
        updated_at=at(resolved) if resolved else start,
        resolved_at=at(resolved) if resolved else None,
        components=components,
        regions=regions,
        updates=updates,
    )


def event(
    inc: Incident,
    kind: EventKind = EventKind.NEW_INCIDENT,
    detected: str | None = None,
    suffix: str = "",
) -> ChangeEvent:
    when = at(detected) if detected else (inc.started_at or at("2024-01-01 00:00"))
    return ChangeEvent(
        event_id=f"{inc.provider}:{inc.id}:{kind.value}{suffix}",
        kind=kind,
        provider=inc.provider,
        incident_id=inc.id,
        detected_at=when,
        incident=inc,
    )

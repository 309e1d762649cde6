"""Meta's status (metastatus.com): `meta-orgs-json` and `meta-history-json`.

`meta-orgs-json` reads `https://metastatus.com/data/orgs.json`. From a real
capture (2026-07-31, quiet): an array of organisations `{id, name,
rss_file_paths, section, services, feature_flags}`, each service `{id, name,
status, time, feature_flags}` with `status: "No known issues"` and `time: null`.
It is status-only: each service is a service state (`FeedDocument.services`)
and the diff synthesizes incidents with a short hysteresis (`notifier.diff.synth`).
A service's name is "<organisation> - <service>", or the organisation alone for
its single "Platform Status"; components are the organisation and the brands it
names (Facebook, Instagram, WhatsApp, Messenger), as the catalog spells them.

Inferred, not yet seen: the status words of an outage (any word but "No known
issues" is kept as written and read as degraded; `major` when it says outage,
down, unavailable or disruption) and `time` while one lasts (read as epoch
seconds or milliseconds, or an ISO time; anything else is ignored).

`meta-history-json` reads `https://metastatus.com/data/outages/{org}.history.json`.
No capture of it exists in our samples: its shape is inferred from field names
aggregators use, read leniently, and every guess is named here. A record list
(the document, or its `outages`/`events`/`history`/`data` list), each record an
incident with an id (`id`), a title (`title`/`name`/`summary`), a start
(`start_time`/`started_at`/`start`/`time`), an end (`end_time`/`resolved_at`/`end`)
and updates (`updates`/`events`, each a time, a status and `message`/`text`/
`description`). It carries Meta's own ids and words, so its incidents are used
as they are. The per-organisation RSS (`outage-events-feed-{org}.rss`) is read by
the generic `rss` parser; metastatus.com answers 200 with its HTML app for
unknown paths, which the registry refuses as "an HTML page, not a feed".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from notifier.feeds.common import Parser, assign_update_keys
from notifier.feeds.errors import ParseError
from notifier.feeds.formats.vendor_common import load_json, one_line, short_hash
from notifier.feeds.html_text import html_to_text
from notifier.models import (
    DocumentKind,
    FeedDocument,
    Impact,
    Incident,
    IncidentKind,
    ServiceState,
    Status,
    Update,
)

STATUS_PAGE = "https://metastatus.com"
HEALTHY = frozenset({"no known issues", "operational", "resolved", "healthy"})
_MAJOR = ("outage", "down", "unavailable", "disruption")
BRANDS = ("Facebook", "Instagram", "WhatsApp", "Messenger", "Threads")
SINGLE_SERVICE = "platform status"


def impact_of(status: str) -> Impact:
    word = status.strip().lower()
    if word in HEALTHY:
        return Impact.NONE
    return Impact.MAJOR if any(w in word for w in _MAJOR) else Impact.MINOR


def meta_time(value: Any) -> datetime | None:
    """Epoch seconds or milliseconds, or an ISO time with an offset; else None."""
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            seconds = value / 1000 if value > 10**11 else value
            return datetime.fromtimestamp(seconds, tz=UTC)
        if isinstance(value, str) and value.strip():
            if value.strip().isdigit():
                return meta_time(int(value.strip()))
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            return parsed.astimezone(UTC) if parsed.tzinfo else None
    except (ValueError, OverflowError, OSError):
        return None
    return None


def brands_in(name: str) -> tuple[str, ...]:
    return tuple(b for b in BRANDS if re.search(rf"\b{b}\b", name, re.IGNORECASE))


# ---- orgs.json ---------------------------------------------------------------------------


def is_orgs(doc: Any) -> bool:
    return (
        isinstance(doc, list)
        and bool(doc)
        and all(isinstance(o, dict) and isinstance(o.get("services"), list) for o in doc)
        and any("rss_file_paths" in o or "section" in o for o in doc)
    )


def _org_service(org: dict[str, Any], raw: Any, provider: str) -> ServiceState:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise ParseError("a metastatus.com service without a name")
    org_name = one_line(str(org.get("name") or org.get("id") or "Meta"))
    service = one_line(raw["name"])
    name = org_name if service.lower() == SINGLE_SERVICE else f"{org_name} - {service}"
    status = raw.get("status")
    state = one_line(status) if isinstance(status, str) and status.strip() else "(no status)"
    org_id = org.get("id") if isinstance(org.get("id"), str) else ""
    return ServiceState(
        provider=provider,
        name=name,
        state=state,
        impact=impact_of(state),
        at=meta_time(raw.get("time")),
        url=f"{STATUS_PAGE}/{org_id}" if org_id else STATUS_PAGE,
        components=(org_name, *brands_in(org_name)),
    )


def parse_orgs(body: bytes, provider: str) -> FeedDocument:
    doc = load_json(body)
    if not is_orgs(doc):
        raise ParseError("not a metastatus.com orgs.json document (organisations with services)")
    services = tuple(_org_service(org, s, provider) for org in doc for s in org["services"])
    return FeedDocument("meta-orgs-json", DocumentKind.ACTIVE, (), services)


# ---- history.json (inferred shape) ---------------------------------------------------------

_LISTS = ("outages", "events", "history", "data")
_TITLE = ("title", "name", "summary")
_START = ("start_time", "started_at", "start", "time", "created_at")
_END = ("end_time", "resolved_at", "end", "ended_at")
_UPDATE_LISTS = ("updates", "events")
_UPDATE_TIME = ("time", "timestamp", "created_at", "at")
_UPDATE_TEXT = ("message", "text", "description", "body")
_CLOSED = ("resolved", "completed", "no known issues", "fixed")


def _first(raw: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((raw[k] for k in keys if raw.get(k) not in (None, "")), None)


def history_records(doc: Any) -> list[dict[str, Any]] | None:
    """The outage records of a history document, or None when it is not one."""
    found = doc
    if isinstance(doc, dict):
        found = next((doc[k] for k in _LISTS if isinstance(doc.get(k), list)), None)
    if not isinstance(found, list) or not all(isinstance(r, dict) for r in found):
        return None
    if found and not all("id" in r and _first(r, _START) is not None for r in found):
        return None
    return found


def _status(word: Any, closed: bool) -> Status:
    text_ = word.lower() if isinstance(word, str) else ""
    if closed or any(w in text_ for w in _CLOSED):
        return Status.RESOLVED
    return Status.IDENTIFIED if "identified" in text_ else Status.INVESTIGATING


def _history_updates(raw: dict[str, Any], start: datetime) -> list[Update]:
    listed = _first(raw, _UPDATE_LISTS)
    out = []
    for u in listed if isinstance(listed, list) else []:
        if not isinstance(u, dict):
            continue
        at = meta_time(_first(u, _UPDATE_TIME)) or start
        words = _first(u, _UPDATE_TEXT)
        status = _status(u.get("status"), False)
        out.append(Update(at=at, status=status, body=html_to_text(str(words or ""))))
    return out


def _history_incident(raw: dict[str, Any], provider: str) -> Incident:
    start = meta_time(_first(raw, _START))
    if start is None:
        raise ParseError("a metastatus.com outage without a readable start")
    end = meta_time(_first(raw, _END))
    title = one_line(str(_first(raw, _TITLE) or "Meta outage"))
    status = _status(raw.get("status"), end is not None)
    updates = _history_updates(raw, start)
    if not updates:
        summary = _first(raw, _UPDATE_TEXT)
        updates = [Update(at=start, status=Status.INVESTIGATING, body=str(summary or title))]
    if status.is_closed and not updates[-1].status.is_closed:
        updates.append(Update(at=end or updates[-1].at, status=Status.RESOLVED, body=title))
    services = raw.get("services") or raw.get("service") or ()
    names = [services] if isinstance(services, str) else services
    components = tuple(
        one_line(str(n.get("name", "") if isinstance(n, dict) else n)) for n in names
    )
    keyed = assign_update_keys(updates)
    raw_id = raw.get("id")
    return Incident(
        provider=provider,
        id=str(raw_id) if raw_id not in (None, "") else f"meta-{short_hash(title, str(start))}",
        title=title,
        url=STATUS_PAGE,
        status=status,
        impact=Impact.MAJOR if "outage" in str(raw.get("status", "")).lower() else Impact.MINOR,
        kind=IncidentKind.INCIDENT,
        started_at=start,
        updated_at=keyed[-1].at,
        resolved_at=(end or keyed[-1].at) if status.is_closed else None,
        components=tuple(c for c in components if c),
        updates=keyed,
    )


def parse_history(body: bytes, provider: str) -> FeedDocument:
    records = history_records(load_json(body))
    if records is None:
        raise ParseError("not a metastatus.com outage history (records with id and start)")
    incidents = tuple(_history_incident(r, provider) for r in records)
    return FeedDocument("meta-history-json", DocumentKind.HISTORY, incidents)


PARSERS: dict[str, Parser] = {"meta-orgs-json": parse_orgs, "meta-history-json": parse_history}

"""AWS Health Dashboard: `aws-json` (currentevents and legacy data.json) and `aws-rss`.

`aws-json` reads two JSON shapes:

- `https://health.aws.amazon.com/public/currentevents`: a list of open (and just
  closed) events. Served live as UTF-16 with a BOM. Each event has an ARN, a
  status "0".."3", an `event_log` of updates with epoch times and the impacted
  services. An active document: an event that leaves it has ended.
- the legacy `status.aws.amazon.com/data.json`: `{"archive": [...], "current": [...]}`,
  statuses as ints or strings, epoch-string dates, and the updates as one HTML
  blob (see `aws_timeline`). A history document.

Neither says an incident's phase, so the phase comes from `phase_statuses`.
Ids: currentevents uses the event ARN. Legacy events have no id, so the id is
`<service key>-<start as YYYYmmddTHHMMSSZ>`, e.g. `ec2-us-east-1-20220616T183100Z`:
the service key and the event's `date` never change while AWS updates an event.
"""

from __future__ import annotations

from typing import Any

from notifier.feeds.common import Parser, assign_update_keys
from notifier.feeds.errors import ParseError
from notifier.feeds.formats.aws_common import (
    DASHBOARD_URL,
    REGION_SUFFIX,
    aws_status,
    derived_id,
    is_resolved,
    region_of,
    strip_resolved,
)
from notifier.feeds.formats.aws_rss import parse_aws_rss
from notifier.feeds.formats.aws_timeline import split_timeline
from notifier.feeds.formats.vendor_common import (
    as_dict,
    as_list,
    as_str,
    epoch,
    load_json,
    one_line,
    phase_statuses,
    require,
    worst,
)
from notifier.feeds.html_text import plain_text
from notifier.models import (
    DocumentKind,
    FeedDocument,
    Impact,
    Incident,
    IncidentKind,
    Status,
    Update,
)

# ---- currentevents ----------------------------------------------------------


def _event_updates(event: dict[str, Any]) -> tuple[list[Update], list[Impact]]:
    log = [as_dict(e, "event_log entry") for e in as_list(event.get("event_log", []), "event_log")]
    log.sort(key=lambda e: epoch(e.get("timestamp")))
    flags, impacts = [], []
    for entry in log:
        closing, impact = aws_status(entry.get("status", 1))
        flags.append(closing)
        impacts.append(impact)
    statuses = phase_statuses(flags)
    updates = [
        Update(
            at=epoch(e.get("timestamp")),
            status=s,
            body=plain_text(str(e.get("message") or e.get("summary") or "")),
        )
        for e, s in zip(log, statuses, strict=True)
    ]
    return updates, impacts


def _impacted(event: dict[str, Any]) -> tuple[list[str], list[Impact]]:
    impacted = as_dict(event.get("impacted_services") or {}, "impacted_services")
    names, impacts = [], []
    for key, info in impacted.items():
        info = as_dict(info, "impacted service")
        names.append(one_line(str(info.get("service_name") or key)))
        impacts.append(aws_status(info.get("max", info.get("current", 1)))[1])
    return names, impacts


def _current_event(raw: object, provider: str) -> Incident:
    event = as_dict(raw, "event")
    service = as_str(event.get("service", ""), "service")
    start = epoch(event.get("date"))
    closing, impact = aws_status(event.get("status"))
    summary = as_str(event.get("summary", ""), "summary")
    end = epoch(event["end_time"]) if event.get("end_time") else None
    closed = closing or end is not None or is_resolved(summary)
    updates, log_impacts = _event_updates(event)
    names, service_impacts = _impacted(event)
    arn = str(event.get("arn") or "")
    regions = (arn.split(":")[3],) if arn.count(":") >= 4 and arn.split(":")[3] else ()
    keyed = assign_update_keys(updates)
    last = keyed[-1].at if keyed else start
    return Incident(
        provider=provider,
        id=arn or derived_id(service, start),
        title=strip_resolved(summary) or one_line(str(event.get("service_name", service))),
        url=DASHBOARD_URL,
        status=_incident_status(keyed, closed),
        impact=worst([impact, *log_impacts, *service_impacts], floor=Impact.MINOR),
        kind=IncidentKind.INCIDENT,
        started_at=start,
        updated_at=max(last, end) if end else last,
        resolved_at=(end or last) if closed else None,
        components=tuple(names) or (one_line(str(event.get("service_name", service))),),
        regions=regions or region_of(service),
        updates=keyed,
    )


def _incident_status(updates: tuple[Update, ...], closed: bool) -> Status:
    if closed:
        return Status.RESOLVED
    return Status.UPDATE if len(updates) > 1 else Status.INVESTIGATING


# ---- legacy data.json -------------------------------------------------------


def _legacy_event(raw: object, provider: str, archived: bool) -> Incident:
    event = as_dict(raw, "event")
    service = as_str(event.get("service", ""), "service")
    require(bool(service), "event without a service key")
    start = epoch(event.get("date"))
    closing, impact = aws_status(event.get("status"))
    summary = as_str(event.get("summary", ""), "summary")
    closed = archived or closing or is_resolved(summary)
    entries = split_timeline(as_str(event.get("description", ""), "description"), start)
    # The legacy format posts the resolution as the last timeline entry.
    flags = [closed and i == len(entries) - 1 for i in range(len(entries))]
    updates = assign_update_keys(
        Update(at=at, status=status, body=body)
        for (at, body), status in zip(entries, phase_statuses(flags), strict=True)
    )
    last = updates[-1].at if updates else start
    service_name = one_line(str(event.get("service_name") or service))
    return Incident(
        provider=provider,
        id=derived_id(service, start),
        title=strip_resolved(summary) or service_name,
        url=DASHBOARD_URL,
        status=_incident_status(updates, closed),
        impact=worst([impact], floor=Impact.MINOR),
        kind=IncidentKind.INCIDENT,
        started_at=start,
        updated_at=last,
        resolved_at=max(last, start) if closed else None,
        components=(REGION_SUFFIX.sub("", service_name) or service_name,),
        regions=region_of(service),
        updates=updates,
    )


def _legacy(data: dict[str, Any], provider: str) -> FeedDocument:
    incidents = [
        _legacy_event(e, provider, archived=True)
        for e in as_list(data.get("archive", []), "archive")
    ]
    incidents += [
        _legacy_event(e, provider, archived=False)
        for e in as_list(data.get("current", []), "current")
    ]
    # A current event may also sit in the archive: keep the later reading.
    unique = {i.id: i for i in incidents}
    return FeedDocument("aws-json", DocumentKind.HISTORY, tuple(unique.values()))


def parse_aws_json(body: bytes, provider: str) -> FeedDocument:
    """currentevents (a JSON list) or legacy data.json (an object with archive/current)."""
    data = load_json(body)
    if isinstance(data, list):
        incidents = {}
        for raw in data:
            incident = _current_event(raw, provider)
            incidents[incident.id] = incident
        return FeedDocument("aws-json", DocumentKind.ACTIVE, tuple(incidents.values()))
    if isinstance(data, dict) and ("archive" in data or "current" in data):
        return _legacy(data, provider)
    raise ParseError("not an AWS Health document: expected an event list or {archive, current}")


PARSERS: dict[str, Parser] = {"aws-json": parse_aws_json, "aws-rss": parse_aws_rss}

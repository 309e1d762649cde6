"""Xbox service status (`https://xnotify.xboxlive.com/servicestatusv6/{market}/{locale}`):
`xbox-xml` and `xbox-json`.

What is real: our sample is a capture of the older **v4** XML (US/en-US,
2026-09-19, quiet): `<ServiceStatus>` with `<Status><State>None</State>…
<LastUpdated>`, then `<CoreServices>`, `<Apps>`, `<Games>` of `<Category>` (`Id`,
`Name`, `<Status><Name>None</Name>`, `<Scenarios/>`) and a `<Website>`. The **v6**
shape (XML by default, JSON with `Accept: application/json`) is read from a quiet
capture in an open-source aggregator's test fixtures, not from our samples:
`Status.Overall{State, LastUpdated}`, `CoreServices` and `Titles` of categories
whose `Scenarios` each have `Status.Name`, `Name`, `Devices`, `Incidents` and a
`Description`. Both are parsed; v6 is what the catalog polls.

Inferred, not yet seen: which words replace "None" during an incident, and the
shape of a scenario's `Incidents`. Any state but "None" is kept as written and
read as degraded (`minor`; `major` when it says outage, down, major or
critical); from an incident record only its text fields are kept.

Each category is a service state (`FeedDocument.services`): the category's own
status, or its worst scenario's when the category says "None" but a scenario
does not. The diff synthesizes incidents from them with a short hysteresis
(`notifier.diff.synth`). Core-service categories keep their names ("Account &
profile"); titles, apps and games are prefixed with their group ("Games - Xbox One").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element

from notifier.feeds.errors import ParseError
from notifier.feeds.formats.microsoft.words import dotnet_time
from notifier.feeds.formats.vendor_common import load_json, one_line
from notifier.feeds.xml import child, children, local, parse_xml, text
from notifier.models import DocumentKind, FeedDocument, Impact, ServiceState

STATUS_PAGE = "https://support.xbox.com/en-US/xbox-live-status"
HEALTHY = "none"
_MAJOR = ("outage", "down", "major", "critical")
CORE = "CoreServices"
GROUPS = {CORE: "", "Titles": "Titles", "Apps": "Apps", "Games": "Games", "Website": ""}
_INCIDENT_TEXT = ("Title", "Name", "Message", "Description", "Text", "Body")


@dataclass(frozen=True, slots=True)
class _Scenario:
    name: str
    state: str
    description: str
    incidents: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Category:
    name: str
    state: str
    scenarios: tuple[_Scenario, ...]


def impact_of(state: str) -> Impact:
    word = state.strip().lower()
    if word == HEALTHY:
        return Impact.NONE
    return Impact.MAJOR if any(w in word for w in _MAJOR) else Impact.MINOR


def _service(cat: _Category, at: datetime | None, provider: str) -> ServiceState:
    affected = [s for s in cat.scenarios if impact_of(s.state) is not Impact.NONE]
    state = cat.state
    if impact_of(state) is Impact.NONE and affected:
        state = max((s.state for s in affected), key=lambda w: impact_of(w).rank)
    lines = []
    for s in affected:
        detail = " ".join([s.description, *s.incidents]).strip()
        lines.append(f"{s.name}: {s.state}" + (f". {detail}" if detail else ""))
    return ServiceState(
        provider=provider,
        name=cat.name,
        state=state,
        impact=impact_of(state),
        at=at,
        message="\n".join(lines),
        url=STATUS_PAGE,
    )


def _document(cats: list[_Category], at: datetime | None, provider: str, fmt: str) -> FeedDocument:
    services = tuple(_service(c, at, provider) for c in cats)
    return FeedDocument(fmt, DocumentKind.ACTIVE, (), services)


def _named(group: str, name: str) -> str:
    prefix = GROUPS.get(group, group)
    return f"{prefix} - {name}" if prefix else name


# ---- XML (v4 and v6) -----------------------------------------------------------------


def is_xbox_xml(root: Element) -> bool:
    return local(root.tag) == "ServiceStatus" and child(root, "Status") is not None


def _xml_state(node: Element) -> str:
    status = child(node, "Status")
    if status is None:
        return "(no status)"
    return text(status, "Name") or text(status, "State") or "(no status)"


def _xml_incidents(node: Element) -> tuple[str, ...]:
    found = child(node, "Incidents")
    if found is None:
        return ()
    out = []
    for incident in list(found):
        words = [text(incident, k) for k in _INCIDENT_TEXT]
        out.append(one_line(" ".join(w for w in words if w) or "".join(incident.itertext())))
    return tuple(w for w in out if w)


def _xml_category(node: Element, group: str) -> _Category:
    scenarios_node = child(node, "Scenarios")
    scenarios = [] if scenarios_node is None else children(scenarios_node, "Scenario")
    return _Category(
        name=_named(group, one_line(text(node, "Name")) or f"Category {text(node, 'Id')}"),
        state=_xml_state(node),
        scenarios=tuple(
            _Scenario(
                name=one_line(text(s, "Name")),
                state=_xml_state(s),
                description=one_line(text(s, "Description")),
                incidents=_xml_incidents(s),
            )
            for s in scenarios
        ),
    )


def parse_xbox_xml(body: bytes, provider: str) -> FeedDocument:
    root = parse_xml(body)
    if not is_xbox_xml(root):
        raise ParseError("not an Xbox service status document (no <ServiceStatus><Status>)")
    status = child(root, "Status")
    assert status is not None
    overall = child(status, "Overall")  # v6; v4 keeps State and LastUpdated in Status itself
    at = dotnet_time(text(overall if overall is not None else status, "LastUpdated"))
    cats: list[_Category] = []
    for group in GROUPS:
        node = child(root, group)
        if node is None:
            continue
        if group == "Website":
            cats.append(_xml_category(node, group))
        else:
            cats.extend(_xml_category(c, group) for c in children(node, "Category"))
    return _document(cats, at, provider, "xbox-xml")


# ---- JSON (v6 with Accept: application/json) --------------------------------------------


def is_xbox_json(doc: Any) -> bool:
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("Status"), dict)
        and ("CoreServices" in doc or "Titles" in doc)
    )


def _json_state(node: dict[str, Any]) -> str:
    status = node.get("Status")
    if isinstance(status, dict):
        for key in ("Name", "State"):
            if isinstance(status.get(key), str) and status[key].strip():
                return one_line(status[key])
    return "(no status)"


def _json_incidents(node: dict[str, Any]) -> tuple[str, ...]:
    raw = node.get("Incidents")
    out = []
    for incident in raw if isinstance(raw, list) else []:
        if isinstance(incident, dict):
            words = [one_line(v) for k in _INCIDENT_TEXT if isinstance(v := incident.get(k), str)]
            out.append(" ".join(w for w in words if w))
        elif isinstance(incident, str):
            out.append(one_line(incident))
    return tuple(w for w in out if w)


def _json_category(node: Any, group: str) -> _Category:
    if not isinstance(node, dict) or not isinstance(node.get("Name"), str):
        raise ParseError("an Xbox status category without a Name")
    listed = node.get("Scenarios")
    scenarios: list[Any] = listed if isinstance(listed, list) else []
    return _Category(
        name=_named(group, one_line(node["Name"])),
        state=_json_state(node),
        scenarios=tuple(
            _Scenario(
                name=one_line(str(s.get("Name", ""))),
                state=_json_state(s),
                description=one_line(s["Description"])
                if isinstance(s.get("Description"), str)
                else "",
                incidents=_json_incidents(s),
            )
            for s in scenarios
            if isinstance(s, dict)
        ),
    )


def parse_xbox_json(body: bytes, provider: str) -> FeedDocument:
    doc = load_json(body)
    if not is_xbox_json(doc):
        raise ParseError("not an Xbox service status document (Status, CoreServices)")
    overall = doc["Status"].get("Overall")
    stamp = overall.get("LastUpdated") if isinstance(overall, dict) else None
    at = dotnet_time(stamp or doc["Status"].get("LastUpdated"))
    cats: list[_Category] = []
    for group in ("CoreServices", "Titles"):
        raw = doc.get(group)
        cats.extend(_json_category(c, group) for c in (raw if isinstance(raw, list) else []))
    return _document(cats, at, provider, "xbox-json")

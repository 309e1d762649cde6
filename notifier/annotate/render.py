"""Plain-text alert bodies (`Alert.text`). Channels escape and shape them for their medium.

Feed text (titles, update bodies) is untrusted: it is flattened to bounded single
lines here and never turned into markup; the incident link is shown only when it
points at the provider's own status host.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from notifier.annotate.correlate import quote
from notifier.models import AlertKind, Annotation, AnnotationKind, ChangeEvent, EventKind

BODY_LIMIT = 600

_LABELS = {
    EventKind.NEW_INCIDENT: "NEW",
    EventKind.NEW_UPDATE: "UPDATE",
    EventKind.STATUS_CHANGED: "UPDATE",
    EventKind.IMPACT_CHANGED: "IMPACT CHANGED",
    EventKind.COMPONENTS_CHANGED: "COMPONENTS CHANGED",
    EventKind.RESOLVED: "RESOLVED",
    EventKind.REOPENED: "REOPENED",
    EventKind.MAINTENANCE_SCHEDULED: "MAINTENANCE SCHEDULED",
    EventKind.MAINTENANCE_STARTED: "MAINTENANCE STARTED",
    EventKind.MAINTENANCE_COMPLETED: "MAINTENANCE COMPLETED",
    # The title says whether the page is unreachable or its feed unreadable.
    EventKind.FEED_UNREACHABLE: "STATUS FEED DOWN",
    EventKind.FEED_RECOVERED: "STATUS FEED BACK",
}
_ORDER = (
    AnnotationKind.UPSTREAM,
    AnnotationKind.STATED_CAUSE,
    AnnotationKind.DOWNSTREAM,
    AnnotationKind.COINCIDENT,
)


@dataclass(frozen=True, slots=True)
class Cascade:
    """The cascade thread an alert was folded into."""

    lead: str  # display name of the provider whose alert opened the thread
    members: tuple[str, ...]  # every provider in it, first-come order


def render_text(
    event: ChangeEvent,
    kind: AlertKind,
    provider_name: str,
    annotations: Sequence[Annotation],
    cascade: Cascade | None = None,
    link: str | None = None,
) -> str:
    """The alert as plain text: headline, state, latest words, annotations, link."""
    inc = event.incident
    label = _LABELS.get(event.kind, kind.value.upper())
    lines = [f"[{label}] {provider_name}: {quote(inc.title)}"]
    if cascade is not None:
        also = [m for m in cascade.members if m != cascade.lead] or [provider_name]
        lines.append(f"Part of the {cascade.lead} cascade; also affected: {', '.join(also)}")
    lines.append(_state_line(event))
    if event.kind is EventKind.COMPONENTS_CHANGED and inc.components:
        lines.append(f"Components: {quote(', '.join(inc.components))}")
    update = event.update or (inc.updates[-1] if inc.updates else None)
    if update is not None and update.body.strip():
        lines.append(f"{update.at:%H:%M} UTC: {quote(update.body, BODY_LIMIT)}")
    ranked = sorted(annotations, key=lambda a: _ORDER.index(a.kind))
    lines.extend(a.text for a in ranked)
    if link:
        lines.append(link)
    return "\n".join(lines)


def _state_line(event: ChangeEvent) -> str:
    inc = event.incident
    parts = [f"Status: {inc.status.value}", f"impact: {inc.impact.value}"]
    if event.kind is EventKind.IMPACT_CHANGED and event.previous:
        parts[1] = f"impact: {quote(event.previous, 20)} → {inc.impact.value}"
    if inc.components and event.kind is not EventKind.COMPONENTS_CHANGED:
        parts.append(f"components: {quote(', '.join(inc.components), 200)}")
    if inc.regions:
        parts.append(f"regions: {quote(', '.join(inc.regions), 200)}")
    return " · ".join(parts)


def trusted_link(url: str | None, feed_url: str | None) -> str | None:
    """`url` if it is https/http on the feed's own site (same last two host labels)."""
    if not url or not feed_url:
        return None
    try:
        got, feed = urlsplit(url), urlsplit(feed_url)
    except ValueError:
        return None
    if got.scheme not in {"https", "http"} or not got.hostname or not feed.hostname:
        return None
    site = ".".join(feed.hostname.split(".")[-2:])
    host = got.hostname
    if host == site or host.endswith("." + site):
        return url.replace("//incidents", "/incidents") if "//incidents" in url else url
    return None

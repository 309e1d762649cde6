"""Medium-neutral pieces of an alert: labels, cleaned feed text, safe links, times.

Every string that came from a feed passes through `clean` first (control
characters and ANSI escapes removed); each channel then escapes for its own
medium (Slack mrkdwn, HTML, GSM-7).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from notifier.models import (
    Alert,
    AlertKind,
    ChangeEvent,
    EventKind,
    FoldedIncident,
    Impact,
    Incident,
    Status,
    Update,
)
from notifier.text import clean, one_line

STATUS_LABEL = {
    Status.INVESTIGATING: "Investigating",
    Status.IDENTIFIED: "Identified",
    Status.UPDATE: "Update",
    Status.MONITORING: "Monitoring",
    Status.RESOLVED: "Resolved",
    Status.POSTMORTEM: "Postmortem",
    Status.SCHEDULED: "Scheduled",
    Status.IN_PROGRESS: "In progress",
    Status.VERIFYING: "Verifying",
    Status.COMPLETED: "Completed",
}


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    if limit <= 0 or len(text) <= limit:
        return text
    return text[: max(0, limit - len(ellipsis))].rstrip() + ellipsis


def impact_label(impact: Impact) -> str:
    return impact.value.upper() if impact is not Impact.NONE else "INFO"


def status_label(status: Status) -> str:
    return STATUS_LABEL.get(status, status.value)


def shown_status(alert: Alert) -> Status:
    """The status an alert shows: an update's own (as the provider posted it then),
    else the incident's."""
    ev = alert.event
    return ev.update.status if ev.kind is EventKind.NEW_UPDATE and ev.update else ev.incident.status


def is_resolution(alert: Alert) -> bool:
    return alert.kind is AlertKind.RESOLVED or shown_status(alert).is_closed


def latest_body(alert: Alert) -> str:
    """The text of the update this alert is about, else notifier's own note (never an
    older update re-quoted), else the incident's newest update.

    A burst (several updates seen in one poll, `ChangeEvent.earlier`) lists them all,
    oldest first, one stamped paragraph each; an incident first seen already over
    starts with the line that says so (`finished_line`)."""
    ev = alert.event
    if ev.earlier and ev.update is not None:
        said = [f"{_hhmm(u.at)} {status_label(u.status)}: {clean(u.body)}" for u in burst(alert)]
        head = finished_line(alert)
        return "\n\n".join([head, *said] if head else said)
    head = finished_line(alert)
    if head:
        body = clean(ev.update.body) if ev.update is not None else clean(ev.note or "")
        return f"{head}\n\n{body}" if body else head
    if alert.event.update is not None:
        return clean(alert.event.update.body)
    if alert.event.note:
        return clean(alert.event.note)
    updates = alert.event.incident.updates
    return clean(updates[-1].body) if updates else ""


def burst(alert: Alert) -> tuple[Update, ...]:
    """The updates an alert carries, oldest first (one, or a burst seen in one poll)."""
    ev = alert.event
    return (*ev.earlier, ev.update) if ev.update is not None else ev.earlier


def finished_line(alert: Alert) -> str:
    """For an incident first seen already over: 'Began 16:24, completed 19:56 UTC, seen
    at 04:47 UTC.' (dates added when the days differ); else ""."""
    ev = alert.event
    inc = ev.incident
    if not ev.first_seen or not inc.status.is_closed:
        return ""
    times = [u.at for u in inc.updates]
    began = inc.started_at or (min(times) if times else None)
    ended = inc.resolved_at or (max(times) if times else None)
    if began is None or ended is None:
        return ""
    verb = "completed" if inc.status is Status.COMPLETED else "resolved"
    seen = ev.detected_at
    same = began.date() == ended.date() == seen.date()
    stamp = _hhmm if same else _day_hhmm
    return f"Began {stamp(began)}, {verb} {stamp(ended)} UTC, seen at {stamp(seen)} UTC."


def _hhmm(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%H:%M")


def _day_hhmm(dt: datetime) -> str:
    dt = dt.astimezone(UTC)
    return f"{dt:%b} {dt.day} {dt:%H:%M}"


def change_line(alert: Alert) -> str:
    """What changed, in a few words (for thread replies and SMS)."""
    ev = alert.event
    if ev.kind in (EventKind.STATUS_CHANGED, EventKind.IMPACT_CHANGED) and ev.current:
        before = one_line(ev.previous) or "?"
        return f"{ev.kind.value.split('_')[0].title()}: {before} → {one_line(ev.current)}"
    if ev.kind is EventKind.FEED_UNREACHABLE:
        # our own title: "Status page unreachable" or "Status feed unreadable"
        return ev.incident.title.partition(":")[0]
    if ev.kind is EventKind.FEED_RECOVERED:
        return "Status feed working again"
    if ev.kind is EventKind.FEED_FLOOD:
        return "Feed flood"
    return status_label(shown_status(alert))


def annotation_lines(alert: Alert) -> list[str]:
    """Each annotation's sentence, once, as the annotator wrote it: it already says what
    it is ("Possible upstream cause: …", "Stated cause: …", "Coincident, …"), so it is
    never put behind a second label ("Stated cause: Stated cause: …")."""
    return [one_line(a.text) for a in alert.annotations]


def group_line(alert: Alert, p: Presentation) -> str | None:
    """'Grouped with the Microsoft Azure incident paged at 18:30 UTC': a folded
    incident's own alert says which group it went to in a line of its own, and never
    names itself as 'also affected'."""
    own = p.provider_name(alert.event.provider)
    lead = next((one_line(m) for m in alert.cascade if one_line(m) != own), None)
    if not alert.attached_to or lead is None:
        return None
    line = f"Grouped with the {lead} incident"
    if alert.group_paged_at is not None:
        line += f" paged at {alert.group_paged_at:%H:%M} UTC"
    return line


def carried_lines(alert: Alert) -> list[str]:
    """What the alert held for quiet hours that this escalation replaces said:
    'Held for quiet hours: Investigating, minor, since 23:00 UTC: We are looking …'."""
    lines = []
    for ev in alert.carried:
        inc = ev.incident
        newest = inc.updates[-1].body if inc.updates else ""
        said = ev.update.body if ev.update else ev.note or newest
        state = f"{status_label(inc.status)}, {inc.impact.value}"
        line = f"Held for quiet hours: {state}, since {ev.detected_at:%H:%M} UTC"
        lines.append(truncate(line + (f": {one_line(said)}" if said.strip() else ""), 300))
    return lines


def notes(alert: Alert, p: Presentation) -> list[str]:
    """The annotation lines, upstream first, then what an escalation carries of an
    alert held for quiet hours, then the group line when folded."""
    lines = [*annotation_lines(alert), *carried_lines(alert)]
    group = group_line(alert, p)
    return [*lines, group] if group else lines


def duration(start: datetime | None, end: datetime | None) -> str | None:
    """'2h 14m' between two times, or None when either is unknown."""
    if start is None or end is None or end < start:
        return None
    minutes = int((end - start).total_seconds() // 60)
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    if hours or days:
        parts.append(f"{hours}h")
    parts.append(f"{mins}m")
    return " ".join(parts)


def resolved_duration(incident: Incident, now: datetime) -> str | None:
    return duration(incident.started_at, incident.resolved_at or incident.updated_at or now)


def fmt_time(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M UTC") if dt else "unknown"


@dataclass(frozen=True, slots=True)
class Presentation:
    """How providers are named and which incident URLs from a feed may be shown.

    Links are always plain text. A feed could carry `https://evil.example/` dressed
    as a status link, so a URL is shown only when it is https, has no credentials
    or odd characters, and, when the provider's status host is known, lives on
    that host or a subdomain of it. It is rendered as its own literal text, never
    behind other link text, so it cannot be disguised.
    """

    names: dict[str, str] | None = None  # provider id -> display name
    hosts: dict[str, str] | None = None  # provider id -> status page host

    def provider_name(self, provider: str) -> str:
        if self.names and provider in self.names:
            return one_line(self.names[provider])
        return one_line(provider)

    def url_for(self, incident: Incident) -> str | None:
        url = (incident.url or "").strip()
        if not url or len(url) > 500 or any(c in url for c in " <>\"'|`\\\n\r\t"):
            return None
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        if parts.scheme != "https" or not parts.hostname or "@" in parts.netloc:
            return None
        if self.hosts and incident.provider in self.hosts:
            allowed = self.hosts[incident.provider].lower()
            host = parts.hostname.lower()
            if host != allowed and not host.endswith("." + allowed):
                return None
        return url


# ---- catch-ups: what happened while notifier was not watching ----------------------


def _day_time(dt: datetime) -> str:
    return f"{dt:%b} {dt.day} {dt:%H:%M}"


def catch_up_title(alert: Alert, p: Presentation) -> str:
    """'While notifier was not watching GitHub (Jun 3 06:40 – Jun 7 06:38 UTC) it had
    3 incidents'; for incidents all posted after our last look at the feed (a backfill),
    'Posted late on GitHub's status page (seen Oct 4 04:29 UTC, after our look at
    Oct 3 04:29 UTC): 1 incident'."""
    ev = alert.event
    gap = ev.gap
    if gap is None or gap.start is None:
        span = f"until {_day_time(gap.end if gap else ev.detected_at)} UTC"
    else:
        span = f"{_day_time(gap.start)} – {_day_time(gap.end)} UTC"
    n = len(alert.caught_up)
    name = p.provider_name(ev.provider)
    if gap is not None and gap.start is not None and all(_backfilled(e) for e in alert.caught_up):
        # notifier was watching: the provider posted them after the time they name
        return (
            f"Posted late on {name}'s status page (seen {_day_time(gap.end)} UTC, after "
            f"our look at {_day_time(gap.start)} UTC): {n} incident{'s' if n != 1 else ''}"
        )
    plural = "s" if n != 1 else ""
    return f"While notifier was not watching {name} ({span}) it had {n} incident{plural}"


def _backfilled(event: ChangeEvent) -> bool:
    """It ended before the last look at the feed: posted after the time it names."""
    gap, times = event.gap, [u.at for u in event.incident.updates]
    end = event.incident.resolved_at or (max(times) if times else None)
    return gap is not None and gap.start is not None and end is not None and end <= gap.start


def catch_up_items(alert: Alert, limit: int = 300) -> list[str]:
    """One line per incident, oldest first: its title and impact, when it began and
    ended, and the provider's final words (or notifier's note where it gave none)."""
    lines = []
    for ev in alert.caught_up:
        inc = ev.incident
        start = inc.started_at or (inc.updates[0].at if inc.updates else None)
        end = inc.resolved_at or inc.updated_at
        when = " – ".join(_day_time(t) for t in (start, end) if t is not None)
        final = ev.note or (inc.updates[-1].body if inc.updates else "")
        impact = inc.impact.value if inc.impact is not Impact.NONE else "info"
        line = f"{one_line(inc.title)} ({impact})" + (f", {when} UTC" if when else "")
        lines.append(truncate(line + (f": {one_line(final)}" if final.strip() else ""), limit))
    return lines


# ---- follow-ups: incidents that joined a cascade ----------------------------------


def folded_item(m: FoldedIncident, components: bool = True, impact: bool = True) -> str:
    """'+OpenAI critical (ChatGPT, API, Sora)'; less when room is short."""
    text = "+" + one_line(m.provider)
    if impact:
        text += f" {m.impact.value if m.impact is not Impact.NONE else 'info'}"
    if components and m.components:
        text += f" ({', '.join(one_line(c) for c in m.components)})"
    return text


def follow_up_sentence(
    members: tuple[FoldedIncident, ...], components: bool = True, impact: bool = True,
    context: bool = True,
) -> str:  # fmt: skip
    """'+OpenAI critical (ChatGPT, API, Sora), likely caused by the Azure incident;
    affects chatbot': every member, its cause and your services it affects."""
    items = "; ".join(folded_item(m, components, impact) for m in members)
    if not context:
        return items
    causes = list(dict.fromkeys(one_line(m.upstream) for m in members if m.upstream))
    services = sorted({one_line(s) for m in members for s in m.services})
    text = items
    if causes:
        text += f", likely caused by the {' / '.join(causes)} incident"
    if services:
        text += f"; affects {', '.join(services)}"
    return text


def incident_key(provider: str, incident_id: str, limit: int) -> str:
    """One key per provider incident for a vendor's dedup (PagerDuty's `dedup_key`,
    Opsgenie's `alias`): readable when it fits in `limit`, else a stable digest."""
    key = f"notifier/{provider}/{incident_id}"
    if len(key) <= limit:
        return key
    return "notifier/" + hashlib.sha256(f"{provider}/{incident_id}".encode()).hexdigest()

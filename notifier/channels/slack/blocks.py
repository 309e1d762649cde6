"""Block Kit payloads for an alert, with feed text made inert and Slack's limits kept.

Feed text is untrusted. In mrkdwn, `&`, `<` and `>` are escaped so `<!channel>`,
`<@U123>` and `<http://evil|disguised>` show as literal text; a bare `@channel`,
`@here` or `@everyone` gets a word joiner after the `@` so no `link_names`
parsing can turn it into a broadcast. Header text is `plain_text`, which Slack
never parses for mentions or links.
"""

from __future__ import annotations

import re
from typing import Any

from notifier.channels.render import (
    Presentation,
    catch_up_items,
    catch_up_title,
    change_line,
    fmt_time,
    impact_label,
    is_resolution,
    latest_body,
    notes,
    resolved_duration,
    shown_status,
    status_label,
    truncate,
)
from notifier.models import Alert, AlertKind, Impact
from notifier.text import clean, one_line

TEXT_MAX = 3000  # top-level `text` next to blocks, and a section's text
FIELD_MAX = 2000
HEADER_MAX = 150
MAX_BLOCKS = 50

_BROADCAST = re.compile(r"@(?=(channel|here|everyone)\b)", re.IGNORECASE)
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")

IMPACT_EMOJI = {
    Impact.CRITICAL: "🔴",
    Impact.MAJOR: "🟠",
    Impact.MINOR: "🟡",
    Impact.MAINTENANCE: "🔧",
    Impact.NONE: "🔵",
}


def escape(text: str | None) -> str:
    """Feed text as inert mrkdwn: no mentions, no links, no broadcasts."""
    out = clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub("@\u2060", out)


def fit(mrkdwn: str, limit: int) -> str:
    """Truncate escaped text without leaving half an `&amp;` behind."""
    if len(mrkdwn) <= limit:
        return mrkdwn
    cut = _PARTIAL_ENTITY.sub("", mrkdwn[: limit - 1])
    return cut + "…"


def _header(alert: Alert, p: Presentation) -> dict[str, Any]:
    inc = alert.event.incident
    mark = "✅ Resolved:" if is_resolution(alert) else IMPACT_EMOJI.get(inc.impact, "")
    text = f"{mark} {p.provider_name(inc.provider)}: {one_line(inc.title)}".strip()
    return {"type": "header", "text": {"type": "plain_text", "text": truncate(text, HEADER_MAX)}}


def _fields(alert: Alert) -> dict[str, Any]:
    inc = alert.event.incident
    pairs = [("Status", status_label(inc.status)), ("Impact", impact_label(inc.impact))]
    if inc.components:
        pairs.append(("Components", ", ".join(one_line(c) for c in inc.components)))
    if inc.regions:
        pairs.append(("Regions", ", ".join(one_line(r) for r in inc.regions)))
    pairs.append(("Started", fmt_time(inc.started_at)))
    if is_resolution(alert):
        took = resolved_duration(inc, alert.event.detected_at)
        pairs.append(("Duration", took or "unknown"))
    fields = [
        {"type": "mrkdwn", "text": fit(f"*{label}*\n{escape(value)}", FIELD_MAX)}
        for label, value in pairs
    ]
    return {"type": "section", "fields": fields[:10]}


def _section(mrkdwn: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": fit(mrkdwn, TEXT_MAX)}}


def _annotations(alert: Alert, p: Presentation) -> list[dict[str, Any]]:
    lines = notes(alert, p)
    if not lines:
        return []
    body = "\n".join(f":link: {escape(line)}" for line in lines)
    return [_section(body)]


def _context(alert: Alert, p: Presentation) -> dict[str, Any]:
    inc = alert.event.incident
    bits = [f"Detected {fmt_time(alert.event.detected_at)}"]
    url = p.url_for(inc)
    if url:
        # Literal text of an https URL on the provider's host: Slack may auto-link
        # it, but the visible text is the target, so it cannot be disguised.
        bits.append(escape(url))
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": fit(" · ".join(bits), TEXT_MAX)}],
    }


def summary_text(alert: Alert, p: Presentation) -> str:
    """The notification/fallback line: `[MAJOR] OpenAI: title - Investigating`."""
    inc = alert.event.incident
    head = f"[{impact_label(inc.impact)}] {p.provider_name(inc.provider)}: {one_line(inc.title)}"
    return fit(f"{escape(head)} - {escape(status_label(inc.status))}", TEXT_MAX)


def catch_up_message(alert: Alert, p: Presentation) -> dict[str, Any]:
    """A catch-up: one message naming what happened while notifier was not watching."""
    title = escape(catch_up_title(alert, p))
    items = "\n".join(f"• {escape(item)}" for item in catch_up_items(alert))
    blocks = [_section(f":clock3: *{title}:*"), _section(items)] if items else [_section(title)]
    context = f"Detected {fmt_time(alert.event.detected_at)} · late news, not paged"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {"text": fit(title, TEXT_MAX), "blocks": blocks[:MAX_BLOCKS]}


def parent_message(
    alert: Alert,
    p: Presentation,
    include_body: bool = True,
    actions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The thread's root, showing the incident as it stands now; `actions` (the
    "Acknowledge" button of a paged incident) goes last."""
    if alert.kind is AlertKind.CATCH_UP:
        return catch_up_message(alert, p)
    blocks = [_header(alert, p), _fields(alert)]
    body = latest_body(alert)
    if include_body and body:
        blocks.append(_section(escape(body)))
    blocks.extend(_annotations(alert, p))
    blocks.append(_context(alert, p))
    blocks = blocks[: MAX_BLOCKS - (1 if actions else 0)]
    if actions:
        blocks.append(actions)
    return {"text": summary_text(alert, p), "blocks": blocks}


def reply_message(alert: Alert, p: Presentation) -> dict[str, Any]:
    """A thread reply: what changed, the update's text, and any new annotations."""
    inc = alert.event.incident
    head = f"*{escape(change_line(alert))}*"
    if is_resolution(alert):
        took = resolved_duration(inc, alert.event.detected_at)
        head = f"*Resolved* after {took}" if took else "*Resolved*"
    if alert.attached_to:  # a reply in an upstream's thread must say whose incident it is
        title = one_line(f"{p.provider_name(inc.provider)}: {inc.title}")
        head = f"*{escape(title)}* · {head}"
    when = alert.event.update.at if alert.event.update else alert.event.detected_at
    body = latest_body(alert)
    text = f"{head} · {fmt_time(when)}" + (f"\n{escape(body)}" if body else "")
    blocks = [_section(text), *_annotations(alert, p)]
    fallback = f"{escape(status_label(shown_status(alert)))}: {escape(one_line(body))}"
    return {"text": fit(fallback, TEXT_MAX), "blocks": blocks[:MAX_BLOCKS]}

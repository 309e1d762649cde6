"""The console's plain text of an alert: what the console prints, and what
`notifier replay` shows as an alert's `text`.

Feed text is `clean`ed of control characters and ANSI escapes, so a hostile feed
cannot repaint or retitle the terminal; a link is shown only when `Presentation`
trusts it.
"""

from __future__ import annotations

from notifier.channels.render import (
    Presentation,
    annotation_lines,
    change_line,
    fmt_time,
    impact_label,
    latest_body,
    one_line,
    status_label,
)
from notifier.models import Alert


def render_text(alert: Alert, p: Presentation, addressed: str = "") -> str:
    """The alert as plain lines: headline, cascade, state, components, annotations,
    the latest words, when it was detected and the link. `addressed` ends the state
    line (the console says where the alert was going)."""
    return "\n".join(text_lines(alert, p, addressed))


def text_lines(alert: Alert, p: Presentation, addressed: str = "") -> list[str]:
    inc = alert.event.incident
    lines = [f"[{impact_label(inc.impact)}] {p.provider_name(inc.provider)}: {one_line(inc.title)}"]
    if alert.cascade:
        lines.append(f"  {cascade_line(alert, p)}")
    state = " · ".join(dict.fromkeys([status_label(inc.status), change_line(alert)]))
    lines.append(f"  {state}" + (f" · {addressed}" if addressed else ""))
    if inc.components:
        lines.append("  Components: " + ", ".join(one_line(c) for c in inc.components))
    lines += [f"  {line}" for line in annotation_lines(alert)]
    body = latest_body(alert)
    if body:
        lines += ["", *(f"  {line}" for line in body.splitlines())]
    url = p.url_for(inc)
    lines.append(f"  Detected {fmt_time(alert.event.detected_at)}" + (f" · {url}" if url else ""))
    return lines


def cascade_line(alert: Alert, p: Presentation) -> str:
    """'Part of the Cloudflare cascade; also affected: GitHub, OpenAI'."""
    lead, *rest = [one_line(m) for m in alert.cascade]
    also = rest or [p.provider_name(alert.event.provider)]
    return f"Part of the {lead} cascade; also affected: {', '.join(also)}"

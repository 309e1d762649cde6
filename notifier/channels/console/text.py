"""The console's plain text of an alert: what the console prints, and what
`notifier replay` shows as an alert's `text`.

Feed text is `clean`ed of control characters and ANSI escapes, so a hostile feed
cannot repaint or retitle the terminal; a link is shown only when `Presentation`
trusts it.
"""

from __future__ import annotations

from notifier.channels.render import (
    Presentation,
    catch_up_items,
    catch_up_title,
    change_line,
    fmt_time,
    follow_up_sentence,
    impact_label,
    latest_body,
    notes,
    one_line,
    status_label,
)
from notifier.models import Alert, AlertKind


def render_text(alert: Alert, p: Presentation, addressed: str = "") -> str:
    """The alert as plain lines: headline, state, components, annotations (upstream
    first) and the cascade it was grouped with, the latest words, when it was detected
    and the link; a follow-up is one line naming the incidents that joined a cascade.
    `addressed` ends the state line (the console says where the alert was going)."""
    return "\n".join(text_lines(alert, p, addressed))


def text_lines(alert: Alert, p: Presentation, addressed: str = "") -> list[str]:
    if alert.kind is AlertKind.FOLLOW_UP:
        tail = f" · {addressed}" if addressed else ""
        return [f"[FOLLOW-UP] Also down: {follow_up_sentence(alert.folded)}{tail}"]
    if alert.kind is AlertKind.CATCH_UP:
        tail = f" · {addressed}" if addressed else ""
        return [f"[CATCH-UP] {catch_up_title(alert, p)}:{tail}"] + [
            f"  - {item}" for item in catch_up_items(alert)
        ]
    inc = alert.event.incident
    lines = [f"[{impact_label(inc.impact)}] {p.provider_name(inc.provider)}: {one_line(inc.title)}"]
    state = " · ".join(dict.fromkeys([status_label(inc.status), change_line(alert)]))
    lines.append(f"  {state}" + (f" · {addressed}" if addressed else ""))
    if inc.components:
        lines.append("  Components: " + ", ".join(one_line(c) for c in inc.components))
    lines += [f"  {line}" for line in notes(alert, p)]
    body = latest_body(alert)
    if body:
        lines += ["", *(f"  {line}" for line in body.splitlines())]
    url = p.url_for(inc)
    lines.append(f"  Detected {fmt_time(alert.event.detected_at)}" + (f" · {url}" if url else ""))
    return lines

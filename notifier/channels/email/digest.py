"""The daily digest as an email: a subject, a text part and an HTML part.

Feed text is `one_line`d and `html.escape`d in the HTML part, as in alert emails.
"""

from __future__ import annotations

import html

from notifier.channels.digest import Digest
from notifier.text import one_line


def subject(digest: Digest) -> str:
    return f"[notifier] Daily digest: {len(digest.lines)} incident(s) to {digest.until:%Y-%m-%d}"


def text_body(digest: Digest) -> str:
    rows = [
        f"{line.last_at:%H:%M} UTC  [{line.impact.upper()}] {line.provider}: "
        f"{one_line(line.title)} ({line.status})"
        for line in digest.lines
    ]
    return "Incidents in the last 24 hours:\n\n" + "\n".join(rows) + "\n"


def html_body(digest: Digest) -> str:
    esc = html.escape
    rows = "".join(
        f"<tr><td>{line.last_at:%H:%M} UTC</td><td>{esc(line.impact.upper())}</td>"
        f"<td>{esc(line.provider)}</td><td>{esc(one_line(line.title))}</td>"
        f"<td>{esc(line.status)}</td></tr>"
        for line in digest.lines
    )
    return (
        f"<html><body><h2>Incidents in the last 24 hours</h2><table>{rows}</table></body></html>\n"
    )

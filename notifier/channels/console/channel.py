"""Console: alerts printed as readable blocks when no vendor is configured.

A newcomer who runs `notifier run` with no credentials sees alerts arrive here.
Feed text is `clean`ed of control characters and ANSI escapes, so a hostile
feed cannot repaint or retitle the terminal.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from typing import ClassVar, TextIO

from notifier.channels.base import Channel, SendResult, Target
from notifier.channels.render import (
    Presentation,
    annotation_lines,
    change_line,
    fmt_time,
    impact_label,
    latest_body,
    status_label,
)
from notifier.config.schema import Subscriber
from notifier.models import Alert
from notifier.text import one_line

_lock = threading.Lock()  # worker threads must not interleave blocks


@dataclass(frozen=True, slots=True)
class ConsoleTarget:
    label: str = "stdout"

    @property
    def id(self) -> str:
        return self.label


class ConsoleChannel(Channel):
    """Stands in for every channel when no vendor is configured, so it prints
    whatever the subscriber's route was."""

    name: ClassVar[str] = "console"

    def __init__(self, stream: TextIO | None = None, presentation: Presentation | None = None):
        self.stream = stream
        self.presentation = presentation or Presentation()

    def targets(self, subscriber: Subscriber) -> list[Target]:
        return [ConsoleTarget()]

    def send(
        self, alert: Alert, target: Target | None = None, thread_ref: str | None = None
    ) -> SendResult:
        text = render(alert, self.presentation)
        stream = self.stream or sys.stdout
        with _lock:
            stream.write(text)
            stream.flush()
        return SendResult(message_id=f"console:{alert.dedup_key}", thread_ref=None)


def render(alert: Alert, p: Presentation) -> str:
    inc = alert.event.incident
    head = f"[{impact_label(inc.impact)}] {p.provider_name(inc.provider)}: {one_line(inc.title)}"
    lines = [
        "=" * min(78, max(20, len(head))),
        head,
        f"  {' · '.join(dict.fromkeys([status_label(inc.status), change_line(alert)]))}"
        f" · to {one_line(alert.subscriber)} ({alert.channel}, shown here: no credentials)",
    ]
    if inc.components:
        lines.append("  Components: " + ", ".join(one_line(c) for c in inc.components))
    lines += [f"  {line}" for line in annotation_lines(alert)]
    body = latest_body(alert)
    if body:
        lines += ["", *(f"  {line}" for line in body.splitlines())]
    url = p.url_for(inc)
    lines.append(f"  Detected {fmt_time(alert.event.detected_at)}" + (f" · {url}" if url else ""))
    return "\n".join(lines) + "\n\n"


__all__ = ["ConsoleChannel", "ConsoleTarget", "render"]

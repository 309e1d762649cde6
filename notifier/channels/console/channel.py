"""Console: alerts printed as readable blocks when no vendor is configured.

A newcomer who runs `notifier run` with no credentials sees alerts arrive here.
Feed text is `clean`ed of control characters and ANSI escapes, so a hostile
feed cannot repaint or retitle the terminal.
"""

from __future__ import annotations

import sys
import threading
from typing import ClassVar, TextIO

from notifier.channels.base import Channel, ConsoleTarget, SendResult, Target
from notifier.channels.console.text import text_lines
from notifier.channels.render import Presentation, one_line
from notifier.models import Alert

_lock = threading.Lock()  # worker threads must not interleave blocks


class ConsoleChannel(Channel):
    name: ClassVar[str] = "console"

    def __init__(self, stream: TextIO | None = None, presentation: Presentation | None = None):
        self.stream = stream
        self.presentation = presentation or Presentation()

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
    """The console block: a rule, the alert's text addressed to its route, a blank line."""
    to = f"to {one_line(alert.subscriber)} ({alert.channel}, shown here: no credentials)"
    lines = text_lines(alert, p, to)
    return "\n".join(["=" * min(78, max(20, len(lines[0]))), *lines]) + "\n\n"


__all__ = ["ConsoleChannel", "ConsoleTarget", "render"]

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
from notifier.channels.console.text import text_lines
from notifier.channels.render import Presentation
from notifier.config.schema.subscribers import Subscriber
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
    label: ClassVar[str] = "console"

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
    """The console block: a rule, the alert's text addressed to its subscriber, a blank
    line. One block stands for all of the subscriber's routes (the pipeline prints a
    change once per subscriber), so it names none of them."""
    to = f"to {one_line(alert.subscriber)} (printed here: no channel has credentials)"
    lines = text_lines(alert, p, to)
    return "\n".join(["=" * min(78, max(20, len(lines[0]))), *lines]) + "\n\n"


__all__ = ["ConsoleChannel", "ConsoleTarget", "render"]

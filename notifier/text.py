"""Untrusted feed text made inert, for every layer that shows it (channels, logs, the CLI).

Feed text never reaches a person raw: `clean` removes ANSI escapes, control and
bidi-override characters; each channel then escapes what remains for its medium.
"""

from __future__ import annotations

import io
import re
from typing import TextIO, cast

_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"[ \t]+")


def clean(text: str | None) -> str:
    """Feed text made inert for a terminal or a message: no ANSI, no control or
    bidi-override characters, runs of spaces collapsed, lines kept."""
    if not text:
        return ""
    text = _ANSI.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(lines).strip()


def one_line(text: str | None) -> str:
    return " ".join(clean(text).split())


_BIDI_AND_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]"
)


def inert(text: str) -> str:
    """Text made harmless for a terminal with its layout kept: ANSI and OSC escape
    sequences (a title that retitles the window, moves the cursor or clears the screen),
    control and bidi-override characters removed; newlines, tabs and spacing stay.
    The one sanitiser every command's output passes through (`InertWriter`)."""
    return _BIDI_AND_CONTROL.sub("", _ANSI.sub("", text.replace("\r\n", "\n")))


class InertWriter(io.TextIOBase):
    """A text stream that writes everything through `inert` to `inner`: what a command
    prints of a feed (titles, ids, component names, URLs, errors) cannot drive the
    terminal, whichever line of the command printed it."""

    def __init__(self, inner: TextIO) -> None:
        super().__init__()
        self.inner = inner

    def write(self, text: str) -> int:
        self.inner.write(inert(text))
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def writable(self) -> bool:
        return True


def inert_stream(inner: TextIO) -> TextIO:
    """`inner`, wrapped in an `InertWriter` (once)."""
    if isinstance(inner, InertWriter):
        return cast(TextIO, inner)
    return cast(TextIO, InertWriter(inner))

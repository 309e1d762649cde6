"""Untrusted feed text made inert, for every layer that shows it (channels, logs, the CLI).

Feed text never reaches a person raw: `clean` removes ANSI escapes, control and
bidi-override characters; each channel then escapes what remains for its medium.
"""

from __future__ import annotations

import re

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

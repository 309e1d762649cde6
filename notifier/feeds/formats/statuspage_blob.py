"""The update history Statuspage packs into one HTML blob per Atom/RSS entry.

Each update is `<p><small>Apr <var data-var='date'>16</var>, <var
data-var='time'>01:46</var> UTC</small><br><strong>Update</strong> - text</p>`,
newest first. Maintenance entries open with a `<strong>THIS IS A SCHEDULED EVENT
…</strong>` header, and a trailing `This incident affected: A, B, and C.` names the
components. The markup has drifted over the years, so this reads the structure
(a `<small>` stamp, then the first `<strong>` label, then the body) with a real
HTML parser and never relies on exact bytes or attribute quoting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from notifier.feeds.html_text import TextCollector, normalize_space


@dataclass
class RawUpdate:
    """One update as written: stamp text ("Apr 16, 01:46 UTC"), label, plain body."""

    stamp: str
    label: str
    body: str


@dataclass
class Blob:
    preamble: str  # text before the first update: the SCHEDULED EVENT header, if any
    updates: list[RawUpdate] = field(default_factory=list)  # newest first, as written
    components: tuple[str, ...] = ()


_AFFECTED = re.compile(
    r"^This (?:incident|scheduled maintenance) affected:\s*(?P<names>.+?)\.?$", re.MULTILINE
)
_LIST_SEP = re.compile(r",\s*(?:and\s+)?")


@dataclass
class _Building:
    stamp: list[str] = field(default_factory=list)
    label: list[str] = field(default_factory=list)
    body: list[str] = field(default_factory=list)
    label_state: str = "stamp"  # stamp -> waiting -> in -> done


class _BlobParser(TextCollector):
    """Routes text to the preamble or to the stamp/label/body of the current update."""

    def __init__(self) -> None:
        super().__init__()
        self.preamble: list[str] = self.parts
        self.built: list[_Building] = []

    @property
    def _current(self) -> _Building | None:
        return self.built[-1] if self.built else None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        current = self._current
        if tag == "small" and not self._skipping:
            self.built.append(_Building())
            self.parts = self.built[-1].body
        elif tag == "strong" and current is not None and current.label_state == "waiting":
            current.label_state = "in"
        else:
            super().handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        current = self._current
        if current is not None and tag == "small" and current.label_state == "stamp":
            current.label_state = "waiting"
        elif current is not None and tag == "strong" and current.label_state == "in":
            current.label_state = "done"
        else:
            super().handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        current = self._current
        if self._skipping or current is None or current.label_state == "done":
            super().handle_data(data)
        elif current.label_state == "stamp":
            current.stamp.append(data)
        elif current.label_state == "in":
            current.label.append(data)
        elif data.strip():  # text before any <strong>: an update without a label
            current.label_state = "done"
            super().handle_data(data)


def _clean_body(parts: list[str]) -> str:
    # The label is followed by " - " in every vintage of the markup.
    return normalize_space("".join(parts)).lstrip("-–— \n")


def _split_components(body: str) -> tuple[str, tuple[str, ...]]:
    match = _AFFECTED.search(body)
    if match is None:
        return body, ()
    names = tuple(n.strip() for n in _LIST_SEP.split(match["names"]) if n.strip())
    if len(names) == 1 and " and " in names[0]:
        names = tuple(n.strip() for n in names[0].split(" and ", 1))
    return normalize_space(body[: match.start()] + body[match.end() :]), names


def parse_blob(html: str) -> Blob:
    """Split one entry's HTML into its header and its updates (newest first)."""
    parser = _BlobParser()
    parser.feed(html)
    parser.close()
    blob = Blob(preamble=normalize_space("".join(parser.preamble)))
    for built in parser.built:
        stamp = normalize_space(" ".join("".join(built.stamp).split()))
        label = normalize_space("".join(built.label))
        blob.updates.append(RawUpdate(stamp, label, _clean_body(built.body)))
    if blob.updates:
        oldest = blob.updates[-1]
        oldest.body, blob.components = _split_components(oldest.body)
    return blob


__all__ = ["Blob", "RawUpdate", "parse_blob"]

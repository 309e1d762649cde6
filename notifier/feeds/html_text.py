"""Untrusted HTML fragments to plain, inert text.

Feed bodies arrive as HTML (escaped inside XML, or raw in CDATA). We keep only the
text: tags are dropped, block elements become line breaks, entities are decoded,
and whitespace is normalized. No markup, link target or attribute survives.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements whose start or end begins a new line of text.
BLOCK_TAGS = frozenset(
    {"p", "br", "div", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6"}
    | {"blockquote", "pre", "hr", "section", "article", "header", "footer", "dd", "dt"}
)
# Elements whose content is never text a reader should see.
SKIP_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript"})

_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u200b]+")
_TAG_LIKE = re.compile(r"<[a-zA-Z/!]")


class TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIP_TAGS:
            self._skipping += 1
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            # HTML whitespace (including newlines in the source) is one space.
            self.parts.append(re.sub(r"\s+", " ", data))


def normalize_space(text: str) -> str:
    """Collapse runs of spaces, trim lines, keep at most one blank line in a row."""
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (tags dropped, entities decoded, spaces normalized)."""
    collector = TextCollector()
    collector.feed(fragment)
    collector.close()
    return normalize_space("".join(collector.parts))


def plain_text(body: str) -> str:
    """Text that may or may not hold markup (JSON bodies): strip tags only if it has any.

    Plain text keeps its own line breaks; HTML's line breaks come from its tags.
    """
    if _TAG_LIKE.search(body):
        return html_to_text(body)
    return normalize_space(body)

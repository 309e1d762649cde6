"""MkDocs hook: the site's home page is the README, so the two never drift apart.

`docs/index.md` holds only the marker `<!-- include: README.md -->`; this hook puts the README
there and turns its links into `docs/` (`docs/channels.md`) into links within the site
(`channels.md`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

MARKER = "<!-- include: README.md -->"
README = Path(__file__).resolve().parents[2] / "README.md"


def home_markdown(readme: str) -> str:
    return readme.replace("](docs/", "](")


def on_page_markdown(markdown: str, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, home_markdown(README.read_text(encoding="utf-8")))

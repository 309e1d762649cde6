"""`<link rel="alternate">` feeds an HTML page announces (RSS and Atom), as absolute URLs.

The page is untrusted: only http(s) links are kept, at most `MAX_LINKS` of them.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json"})
MAX_LINKS = 10


class _Links(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base":
            href = dict(attrs).get("href")
            if href:
                self.base = urljoin(self.base, href)
        if tag not in {"link", "a"}:
            return
        a = {k.lower(): (v or "") for k, v in attrs}
        rels = a.get("rel", "").lower().split()
        if "alternate" in rels and a.get("type", "").lower().split(";")[0].strip() in FEED_TYPES:
            url = urljoin(self.base, a.get("href", "").strip())
            if urlsplit(url).scheme in {"http", "https"} and url not in self.found:
                self.found.append(url)


def alternate_feeds(html: str, base: str) -> list[str]:
    """Feed URLs the page links with rel=alternate, in page order."""
    parser = _Links(base)
    parser.feed(html)
    parser.close()
    return parser.found[:MAX_LINKS]

"""Find the machine-readable feed behind a status page's address.

Order: the page itself (a feed URL given as the page works as is), the platform's
endpoints when the HTML carries its marks, the feeds the page links with
`<link rel="alternate">`, then the usual paths. Every request goes through the
caller's `Fetcher`, so discovery keeps polling's rules (timeouts, size cap, redirect
limit, the address guard, no credentials); at most `MAX_REQUESTS` requests and
`budget_s` seconds in all. A candidate counts only if it parses as a feed.

Links and redirects are followed only within the page's own site (its registrable
domain, notifier.feeds.guard.site_of): a page cannot send discovery to another host's feed,
or to an internal address. A feed elsewhere is configured by its URL (`feed:`).

A Statuspage feed found without the platform's marks on the page (its Atom's
`tag:<host>,2005:/history` id gives it away) brings the page's own
`/api/v2/summary.json`, which carries components and impact: preferred when it answers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from notifier.feeds import registry
from notifier.feeds.detect import detect, looks_like_html
from notifier.feeds.discover.components import listed_components
from notifier.feeds.discover.links import alternate_feeds
from notifier.feeds.discover.platforms import USUAL_PATHS, Platform, fingerprint, status_io_feed
from notifier.feeds.errors import FeedError
from notifier.feeds.guard import same_site, site_of
from notifier.feeds.xml import decode_text

MAX_REQUESTS = 12
USUAL = "usual path"
BUDGET_S = 60.0
SP_JSON = "statuspage-json"
SP_SUMMARY = "/api/v2/summary.json"
# Statuspage's Atom feed id: tag:<host>,2005:/history
_SP_ATOM_ID = b",2005:/history"
_SP_FEED_PATHS = ("/history.atom", "/history.rss")


class _PageBody(Protocol):
    @property
    def body(self) -> bytes | None: ...


class Fetches(Protocol):
    """What discovery needs of `notifier.feeds.fetch.Fetcher`."""

    def fetch(self, url: str, *, site: str | None = None) -> _PageBody: ...


@dataclass(frozen=True, slots=True)
class Found:
    url: str
    format: str
    how: str  # "platform endpoint (…)", "<link rel=alternate>", "usual path", "the page itself"
    components: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Discovery:
    page: str
    platform: str  # "" when no platform was recognised
    feeds: tuple[Found, ...]
    tried: int  # requests made
    problems: tuple[str, ...] = field(default=())  # why the page or candidates failed

    @property
    def best(self) -> Found | None:
        return self.feeds[0] if self.feeds else None

    @property
    def components(self) -> tuple[str, ...]:
        """The richest component list any found feed gave."""
        return max((f.components for f in self.feeds), key=len, default=())


def discover(
    page: str, fetcher: Fetches, *, max_requests: int = MAX_REQUESTS, budget_s: float = BUDGET_S
) -> Discovery:
    """Every feed found behind `page`, best first. Never raises for the network."""
    run = _Run(fetcher, max_requests, time.monotonic() + budget_s, site_of(_host(page)))
    body = run.get(page, "the page")
    if body is None:
        return run.result(page, "")
    if not looks_like_html(body):
        run.take(page, body, "auto", "the page itself")
        return _prefer_summary(run, page, {page}, "")
    html = decode_text(body)
    platform = fingerprint(html)
    asked = {page}
    for url, fmt, how in _candidates(page, html, platform):
        if run.spent():
            break
        # Each address once; the usual paths only when nothing better answered.
        if url in asked or (how == USUAL and run.found):
            continue
        asked.add(url)
        run.try_feed(url, fmt, how)
    return _prefer_summary(run, page, asked, platform.name if platform else "")


def _prefer_summary(run: _Run, page: str, asked: set[str], name: str) -> Discovery:
    """Statuspage's summary, tried beside a Statuspage feed when not yet found, and put
    first: it carries components and impact."""
    if run.statuspage_base and not any(f.format == SP_JSON for f in run.found):
        summary = run.statuspage_base + SP_SUMMARY
        if summary not in asked:
            run.try_feed(summary, SP_JSON, "platform endpoint (Statuspage summary beside its Atom)")
    if any(f.format == SP_JSON for f in run.found) and (
        run.statuspage_base or name == "statuspage"
    ):
        run.found.sort(key=lambda f: f.format != SP_JSON)
        name = name or "statuspage"
    return run.result(page, name)


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


def _candidates(page: str, html: str, platform: Platform | None) -> list[tuple[str, str, str]]:
    base = _base(page)
    out: list[tuple[str, str, str]] = []
    if platform is not None:
        for e in platform.endpoints:
            out.append((base + e.path, e.format, f"platform endpoint ({e.why})"))
        if platform.name == "status.io" and (path := status_io_feed(html)):
            out.append(
                (_origin(page) + path, "rss", "platform endpoint (status.io /pages/<id>/rss)")
            )
    out += [
        (url, "auto", "<link rel=alternate> on the page") for url in alternate_feeds(html, page)
    ]
    out += [(base + path, "auto", USUAL) for path in USUAL_PATHS]
    return out


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def _base(url: str) -> str:
    """The page's origin and path without a trailing slash (a page may live under a path)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


class _Run:
    def __init__(self, fetcher: Fetches, max_requests: int, deadline: float, site: str) -> None:
        self.fetcher = fetcher
        self.left = max_requests
        self.deadline = deadline
        self.site = site
        self.statuspage_base = ""  # where a Statuspage feed was found: its summary is beside
        self.tried = 0
        self.found: list[Found] = []
        self.problems: list[str] = []

    def spent(self) -> bool:
        return self.left <= 0 or time.monotonic() > self.deadline

    def get(self, url: str, what: str) -> bytes | None:
        if self.spent():
            return None
        if not same_site(url, self.site):
            self.problems.append(f"{what}: {_host(url)[:80]} is outside the site {self.site}")
            return None
        self.left -= 1
        self.tried += 1
        try:
            result = self.fetcher.fetch(url, site=self.site)
        except FeedError as exc:
            if what == "the page":
                self.problems.append(f"the page: {exc}")
            return None
        return result.body

    def try_feed(self, url: str, fmt: str, how: str) -> None:
        got = self.get(url, how)
        if got is not None and not looks_like_html(got):
            self.take(url, got, fmt, how)

    def take(self, url: str, body: bytes, fmt: str, how: str) -> None:
        """Keep `body` when it parses as a feed; note where a Statuspage feed lives."""
        found = self.check(url, body, fmt, how)
        if found is None:
            return
        self.found.append(found)
        if found.format in ("statuspage-atom", "statuspage-rss") or _SP_ATOM_ID in body[:4096]:
            base = _base(url)
            for suffix in _SP_FEED_PATHS:
                if base.endswith(suffix):
                    self.statuspage_base = base[: len(base) - len(suffix)]

    def check(self, url: str, body: bytes, fmt: str, how: str) -> Found | None:
        """A Found if `body` parses as a feed (of `fmt`, else of whatever it is)."""
        try:
            name = detect(body) if fmt == "auto" else fmt
            doc = registry.parse(body, name, "discovery")
        except Exception as exc:  # a parser's failure on untrusted bytes: not a feed
            self.problems.append(f"{urlsplit(url).path or '/'}: {str(exc)[:80]}")
            return None
        return Found(url, name, how, listed_components(body, doc))

    def result(self, page: str, platform: str, found: list[Found] | None = None) -> Discovery:
        feeds = tuple(found if found is not None else self.found)
        if not platform and any(f.format == "statuspage-json" for f in feeds):
            platform = "statuspage-compatible"
        return Discovery(page, platform, feeds, self.tried, tuple(self.problems))

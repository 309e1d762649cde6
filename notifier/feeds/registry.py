"""Format names to parsers.

A parser is `parse(body: bytes, provider: str) -> FeedDocument`; it raises a
`ParseError` subclass on anything it cannot read. Each format module exposes a
`PARSERS: dict[str, Parser]`; this module collects them and adds `auto`, which
asks `notifier.feeds.detect` for the format first. A web page where a feed was
expected (a login wall, an error page, the status page's own HTML) is told apart
from a broken feed before any parser sees it: `HtmlPageError`. Every document leaves
with its ids and titles within bounds (`notifier.feeds.bounds`).
"""

from __future__ import annotations

from notifier.feeds.bounds import bounded
from notifier.feeds.common import Parser
from notifier.feeds.detect import detect, looks_like_html
from notifier.feeds.errors import HtmlPageError, UnknownFormatError
from notifier.feeds.formats import (
    aws,
    gcp,
    generic,
    incidentio,
    meta,
    microsoft,
    slack_status,
    statuspage_json,
    statuspage_xml,
)
from notifier.models import FeedDocument

# One module per format family; a name given twice would be a bug, caught at import.
_TABLE: dict[str, Parser] = {}
for _module in (
    statuspage_json, statuspage_xml, incidentio, aws, gcp, microsoft, meta, slack_status,
    generic,
):  # fmt: skip
    assert not _TABLE.keys() & _module.PARSERS.keys(), _module.__name__
    _TABLE.update(_module.PARSERS)


def parsers() -> dict[str, Parser]:
    """Every format name (but `auto`) with its parser."""
    return dict(_TABLE)


def parse_auto(body: bytes, provider: str) -> FeedDocument:
    """Parse with whichever parser `detect` names."""
    return _TABLE[detect(body)](body, provider)


def get_parser(format_name: str) -> Parser:
    if format_name == "auto":
        return parse_auto
    try:
        return _TABLE[format_name]
    except KeyError:
        known = ", ".join(sorted([*_TABLE, "auto"]))
        raise UnknownFormatError(f"unknown feed format {format_name!r}; known: {known}") from None


def parse(body: bytes, format_name: str, provider: str) -> FeedDocument:
    parser = get_parser(format_name)
    if looks_like_html(body):
        raise HtmlPageError("answered with an HTML page, not a feed")
    return bounded(parser(body, provider))  # ids and titles within bounds (feeds.bounds)

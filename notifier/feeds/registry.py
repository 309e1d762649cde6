"""Format names to parsers.

A parser is `parse(body: bytes, provider: str) -> FeedDocument`; it raises a
`ParseError` subclass on anything it cannot read. Each format module exposes a
`PARSERS: dict[str, Parser]`; this module collects them and adds `auto`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache

from notifier.feeds.errors import UnknownFormatError
from notifier.models import FeedDocument

Parser = Callable[[bytes, str], FeedDocument]

# One module per format family; order matters only for `auto` detection ties.
_MODULES = (
    "statuspage_json",
    "statuspage_xml",
    "incidentio",
    "aws",
    "gcp",
    "azure",
    "slack_status",
    "generic",
)


@cache
def parsers() -> dict[str, Parser]:
    table: dict[str, Parser] = {}
    for name in _MODULES:
        table.update(importlib.import_module(f"notifier.feeds.formats.{name}").PARSERS)
    return table


def get_parser(format_name: str) -> Parser:
    if format_name == "auto":
        from notifier.feeds.detect import parse_auto

        return parse_auto
    try:
        return parsers()[format_name]
    except KeyError:
        known = ", ".join(sorted([*parsers(), "auto"]))
        raise UnknownFormatError(f"unknown feed format {format_name!r}; known: {known}") from None


def parse(body: bytes, format_name: str, provider: str) -> FeedDocument:
    return get_parser(format_name)(body, provider)

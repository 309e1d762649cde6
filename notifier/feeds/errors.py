"""Every way reading a feed can fail is a FeedError with a short, secret-free message."""

from __future__ import annotations


class FeedError(Exception):
    """Base of all feed failures. `str()` is one line, safe to show a user."""


class FetchError(FeedError):
    """The network or the server failed: timeout, DNS, connection, HTTP status."""


class TooLargeError(FeedError):
    """The body (or its decompressed form) exceeded the size cap."""


class ParseError(FeedError):
    """The bytes are not a document of the expected format."""


class HostileDocumentError(ParseError):
    """The document uses XML features we refuse: entities, DTDs, external references."""


class EmptyFeedError(ParseError):
    """A document with no content at all (an empty body, or no root element)."""


class UnknownFormatError(FeedError):
    """No parser is registered under that name, or `auto` could not tell."""

"""Every way reading a feed can fail is a FeedError with a short, secret-free message
and a `cause`: the class of failure, which feed health keeps and `notifier status`
says in plain words (`cause_words`).

A cause is stored as its code: the `Cause` value, or `http:<status>` for an HTTP
error status. The page either could not be reached (DNS, refused, timeout, TLS, an
HTTP error, a redirect loop, another network error) or it answered with something
that is not a readable feed (an HTML page, a body over the size cap, a parse error):
`is_unreadable(code)` tells the two apart.
"""

from __future__ import annotations

from enum import StrEnum


class Cause(StrEnum):
    DNS = "dns"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    TLS = "tls"
    HTTP = "http"
    REDIRECTS = "redirects"
    NETWORK = "network"
    HTML = "html"
    TOO_LARGE = "too_large"
    UNREADABLE = "unreadable"
    FORBIDDEN = "forbidden"


_WORDS = {
    Cause.DNS: "DNS lookup failed: the host name does not resolve",
    Cause.REFUSED: "connection refused: nothing listens at that address",
    Cause.TIMEOUT: "timed out: the server did not answer in time",
    Cause.TLS: "TLS error: the secure connection failed (certificate or handshake)",
    Cause.REDIRECTS: "too many redirects",
    Cause.NETWORK: "network error: the connection failed",
    Cause.HTML: "answered with an HTML page, not a feed",
    Cause.TOO_LARGE: "the feed is larger than NOTIFIER_MAX_FEED_BYTES",
    Cause.UNREADABLE: "unreadable feed: not the format configured for it",
    Cause.FORBIDDEN: "refused: the address is private or off-site "
    "(allow a network with NOTIFIER_FETCH_ALLOW_NETWORKS)",
}
_HTTP_MEANING = {
    401: "access denied",
    403: "access denied",
    404: "not found: check the feed URL",
    410: "gone: check the feed URL",
    429: "rate limited",
}
_UNREADABLE = frozenset({Cause.HTML, Cause.TOO_LARGE, Cause.UNREADABLE})


def cause_words(code: str | None) -> str:
    """A stored cause code in plain words ('HTTP status 503: the server has a problem')."""
    if code is None or not code:
        return "failed"
    name, _, status = code.partition(":")
    if name == Cause.HTTP:
        meaning = _HTTP_MEANING.get(int(status)) if status.isdigit() else None
        if meaning is None and status.startswith("5"):
            meaning = "the server has a problem"
        return f"HTTP status {status or '?'}" + (f": {meaning}" if meaning else "")
    try:
        return _WORDS[Cause(name)]
    except ValueError:
        return "failed"


def is_unreadable(code: str | None) -> bool:
    """The page answered, but not with a feed we can read (not 'unreachable')."""
    return code is not None and code.partition(":")[0] in _UNREADABLE


class FeedError(Exception):
    """Base of all feed failures. `str()` is one line, safe to show a user."""

    cause: Cause = Cause.UNREADABLE

    def __init__(
        self,
        message: str,
        cause: Cause | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        if cause is not None:
            self.cause = cause
        self.http_status = http_status
        # Seconds the server asked us to wait (429 or 503 with Retry-After), if it did.
        self.retry_after = retry_after

    @property
    def cause_code(self) -> str:
        """What feed health stores: the cause, with the status for an HTTP error."""
        if self.cause is Cause.HTTP and self.http_status is not None:
            return f"{Cause.HTTP.value}:{self.http_status}"
        return self.cause.value


class FetchError(FeedError):
    """The network or the server failed: timeout, DNS, connection, HTTP status."""

    cause = Cause.NETWORK


class TooLargeError(FeedError):
    """The body (or its decompressed form) exceeded the size cap."""

    cause = Cause.TOO_LARGE


class ParseError(FeedError):
    """The bytes are not a document of the expected format."""


class HtmlPageError(ParseError):
    """The server answered with a web page (a login wall, an error page, the status
    page's own HTML) where a feed was expected."""

    cause = Cause.HTML


class HostileDocumentError(ParseError):
    """The document uses XML features we refuse: entities, DTDs, external references."""


class EmptyFeedError(ParseError):
    """A document with no content at all (an empty body, or no root element)."""


class UnknownFormatError(FeedError):
    """No parser is registered under that name, or `auto` could not tell."""


class UndetectedFormatError(UnknownFormatError):
    """`auto` could not tell the format. The message asks for the subscription file's
    `format:` key; a command that takes `--format` instead says that itself."""

"""Safe XML reading for every XML feed format.

All XML goes through defusedxml: DTDs, entity declarations (the "billion laughs")
and external references raise `HostileDocumentError` before anything expands.
Element helpers ignore namespaces, because feeds mix Atom, RSS, Dublin Core and
content: namespaces freely and we only ever care about local names.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as ExpatError

import defusedxml
from defusedxml.ElementTree import fromstring

from notifier.feeds.errors import EmptyFeedError, HostileDocumentError, ParseError

# Byte-order marks, longest first (UTF-32 LE starts with the UTF-16 LE mark).
BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def decode_text(body: bytes, declared_charset: str | None = None) -> str:
    """Bytes to text: a BOM wins, then the declared charset, then UTF-8 (strict).

    Raises `ParseError` when the bytes are not valid in that encoding, so a feed
    served in the wrong encoding fails loudly instead of turning into mojibake.
    """
    encoding = declared_charset or "utf-8"
    for bom, name in BOMS:
        if body.startswith(bom):
            body, encoding = body[len(bom) :], name
            break
    try:
        return body.decode(encoding)
    except LookupError:
        raise ParseError(f"unknown character encoding {declared_charset!r}") from None
    except UnicodeDecodeError as exc:
        raise ParseError(f"not valid {encoding} text at byte {exc.start}") from None


def looks_like_html(head: str) -> bool:
    """True for an HTML page (an error or login page served with 200)."""
    start = head.lstrip()[:200].lower()
    return start.startswith(("<!doctype html", "<html")) or (
        start.startswith("<?xml") and "<html" in start
    )


def parse_xml(body: bytes) -> Element:
    """The root element of a well-formed, non-hostile XML document.

    Raises `EmptyFeedError` for a blank body, `HostileDocumentError` for DTDs,
    entities and external references, and `ParseError` for anything else.
    """
    if not body.strip():
        raise EmptyFeedError("empty document")
    if looks_like_html(body[:512].decode("latin-1")):
        raise ParseError("got an HTML page, not a feed")
    try:
        root: Element = fromstring(body, forbid_dtd=True)
    except defusedxml.DTDForbidden:
        raise HostileDocumentError("XML document type declarations (DTDs) are refused") from None
    except defusedxml.EntitiesForbidden:
        raise HostileDocumentError("XML entity declarations are refused") from None
    except defusedxml.ExternalReferenceForbidden:
        raise HostileDocumentError("XML external references are refused") from None
    except ExpatError as exc:
        raise ParseError(f"not well-formed XML: {exc}") from None
    if local(root.tag) == "html":
        raise ParseError("got an HTML page, not a feed")
    return root


def local(tag: str) -> str:
    """`{namespace}name` -> `name`."""
    return tag.rsplit("}", 1)[-1]


def children(parent: Element, name: str) -> list[Element]:
    return [c for c in parent if local(c.tag) == name]


def child(parent: Element, name: str) -> Element | None:
    for c in parent:
        if local(c.tag) == name:
            return c
    return None


def text(parent: Element, name: str) -> str:
    """Stripped text of the first child called `name`, or ""."""
    found = child(parent, name)
    return (found.text or "").strip() if found is not None else ""


def parse_date(value: str) -> datetime | None:
    """An RFC 3339 (Atom) or RFC 822 (RSS) date as aware UTC, or None."""
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # RFC 822 "-0000": UTC with unknown zone
    return parsed.astimezone(UTC)

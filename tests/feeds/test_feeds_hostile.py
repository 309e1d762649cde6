"""Bad and hostile input: every parser path fails with the right one-line FeedError."""

from __future__ import annotations

import pytest

from notifier.feeds.errors import (
    EmptyFeedError,
    FeedError,
    HostileDocumentError,
    ParseError,
    UnknownFormatError,
)
from notifier.feeds.registry import parse

XML_FORMATS = ["statuspage-atom", "statuspage-rss", "incidentio-rss", "rss", "atom", "auto"]
JSON_FORMATS = ["statuspage-json", "auto"]

# All made here.
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss version="2.0"><channel><title>&lol3;</title></channel></rss>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<feed xmlns="http://www.w3.org/2005/Atom"><title>&xxe;</title></feed>"""
BARE_DTD = b"""<?xml version="1.0"?><!DOCTYPE rss SYSTEM "http://example.com/rss.dtd">
<rss version="2.0"><channel><title>x</title></channel></rss>"""
HTML_PAGE = b"<!DOCTYPE html><html><head><title>503</title></head><body>Down</body></html>"
XHTML_PAGE = b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>'
TRUNCATED_XML = b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><title>x'
LATIN1_AS_UTF8 = (
    '<?xml version="1.0" encoding="UTF-8"?><rss><channel><title>caf\xe9</title>'.encode("latin-1")
    + b"</channel></rss>"
)


@pytest.mark.parametrize("fmt", XML_FORMATS)
@pytest.mark.parametrize(
    ("body", "error"),
    [
        (BILLION_LAUGHS, HostileDocumentError),  # entity expansion
        (EXTERNAL_ENTITY, HostileDocumentError),  # external entity (XXE)
        (BARE_DTD, HostileDocumentError),  # any DTD at all
        (HTML_PAGE, ParseError),  # an error page served with 200
        (XHTML_PAGE, ParseError),  # well-formed XML, but a web page
        (TRUNCATED_XML, ParseError),  # cut off mid-document
        (b"not xml at all", ParseError),  # plain text
        (LATIN1_AS_UTF8, ParseError),  # declares UTF-8, is Latin-1
        (b"", EmptyFeedError),  # empty body
        (b"  \n\t ", EmptyFeedError),  # only whitespace
    ],
)
def test_xml_paths_refuse_bad_input(fmt: str, body: bytes, error: type[FeedError]) -> None:
    with pytest.raises(error) as caught:
        parse(body, fmt, "p")
    assert "\n" not in str(caught.value) and str(caught.value)


@pytest.mark.parametrize("fmt", JSON_FORMATS)
@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'{"page": {}, "incidents": [', ParseError),  # truncated
        (HTML_PAGE, ParseError),  # an error page served with 200
        (b"", EmptyFeedError),  # empty body
        (b'{"page": {}, "incidents": [{"name": "\xff"}]}', ParseError),  # not UTF-8
        (b'{"page": {}, "incidents": "nope"}', ParseError),  # wrong shape
        (b"[" * 100_000 + b"]" * 100_000, FeedError),  # nested too deeply
    ],
)
def test_json_paths_refuse_bad_input(fmt: str, body: bytes, error: type[FeedError]) -> None:
    with pytest.raises(error) as caught:
        parse(body, fmt, "p")
    assert "\n" not in str(caught.value)


def test_statuspage_json_rejects_a_document_without_incidents() -> None:
    with pytest.raises(ParseError, match="not a Statuspage API document"):
        parse(b'{"hello": 1}', "statuspage-json", "p")


def test_auto_says_when_it_cannot_tell() -> None:
    with pytest.raises(UnknownFormatError):
        parse(b'{"hello": 1}', "auto", "p")
    with pytest.raises(UnknownFormatError):
        parse(b"<opml><body/></opml>", "auto", "p")


@pytest.mark.parametrize("bom_encoding", ["utf-8-sig", "utf-16"])
def test_byte_order_marks_are_read(bom_encoding: str) -> None:
    # made here: a summary.json saved with a BOM (AWS serves UTF-16 with one)
    doc = '{"page": {"url": "https://s.example.com"}, "incidents": [], "components": []}'
    parsed = parse(doc.encode(bom_encoding), "auto", "p")
    assert parsed.format == "statuspage-json" and parsed.incidents == ()


def test_a_feed_with_no_entries_is_an_empty_document_not_an_error() -> None:
    # made here: a new page with no incidents yet
    body = b'<feed xmlns="http://www.w3.org/2005/Atom"><id>tag:x,2005:/history</id></feed>'
    assert parse(body, "statuspage-atom", "p").incidents == ()


def test_the_wrong_root_for_the_named_format_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="expected an Atom"):
        parse(b"<rss version='2.0'><channel/></rss>", "statuspage-atom", "p")
    with pytest.raises(ParseError, match="expected an RSS"):
        parse(b"<feed xmlns='http://www.w3.org/2005/Atom'/>", "statuspage-rss", "p")

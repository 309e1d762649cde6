"""The HTTP charset, applied where a feed's bytes need it.

Parsers read bytes: JSON as UTF-8/16/32 (RFC 8259), XML by its BOM or its own
declaration. A feed in another charset that only the `Content-Type` header names
(an old RSS server sending ISO-8859-1 with no XML declaration) would fail to
parse, so the fetcher hands such a body on re-encoded as UTF-8, with an XML
declaration's encoding rewritten to match.

A body that is already valid UTF-8, or starts with a byte-order mark, is left as
it is whatever the header says: servers that label UTF-8 as ISO-8859-1 (an old
Apache default for text/*) are far more common than Latin-1 text with accented
letters that happens to be valid UTF-8.
"""

from __future__ import annotations

import re

from notifier.feeds.xml import BOMS

_XML_ENCODING = re.compile(rb"""^(\s*<\?xml[^>]*?\bencoding\s*=\s*)(["'])[A-Za-z0-9._:-]+\2""")


def to_utf8(body: bytes, charset: str | None) -> bytes:
    """`body` as UTF-8 when it is not already and `charset` can decode it; else as given
    (the parser then reports the bytes it cannot read)."""
    if not charset or not body or body.startswith(tuple(bom for bom, _ in BOMS)):
        return body
    try:
        body.decode("utf-8")
        return body
    except UnicodeDecodeError:
        pass
    try:
        text = body.decode(charset)
    except (LookupError, UnicodeDecodeError):
        return body
    return _XML_ENCODING.sub(rb"\1\2utf-8\2", text.encode("utf-8"), count=1)

"""Every feed parser, and `feed parse`'s detection, fed arbitrary bytes and mutated real
documents: only the project's own error (`FeedError`) may come out, never another
exception, and no input may take a parser past the deadline."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.feeds import registry
from notifier.feeds.detect import detect
from notifier.feeds.errors import FeedError
from notifier.models import FeedDocument
from tests.fuzz.profile import FUZZ, sample_files

PARSERS = sorted(registry.parsers())
SAMPLES = sample_files()


def _parse_or_feed_error(body: bytes, fmt: str) -> None:
    try:
        doc = registry.parse(body, fmt, "fuzz")
    except FeedError:
        return
    assert isinstance(doc, FeedDocument)
    assert all(len(i.id) <= 200 and len(i.title) <= 500 for i in doc.incidents)


def _detect_or_feed_error(body: bytes) -> None:
    try:
        name = detect(body)
    except FeedError:
        return
    assert name in registry.parsers()


# Shapes that reach deeper than random bytes: JSON, XML and feed-like beginnings.
PREFIXES = [
    b"", b"{", b'{"incidents": [', b"[", b"<?xml version='1.0'?>", b"<rss><channel>",
    b"<feed xmlns='http://www.w3.org/2005/Atom'>", b"\xef\xbb\xbf{", b"\xff\xfe{\x00",
]  # fmt: skip
bodies = st.builds(lambda p, b: p + b, st.sampled_from(PREFIXES), st.binary(max_size=2000))


@pytest.mark.parametrize("fmt", [*PARSERS, "auto"])
@FUZZ
@given(body=bodies)
def test_a_parser_given_any_bytes_raises_only_a_feed_error(fmt: str, body: bytes) -> None:
    _parse_or_feed_error(body, fmt)


@FUZZ
@given(body=bodies)
def test_detection_given_any_bytes_names_a_parser_or_raises_a_feed_error(body: bytes) -> None:
    _detect_or_feed_error(body)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    """A real document with a few bytes flipped, cut, duplicated or spliced in."""
    path = draw(st.sampled_from(SAMPLES))
    data = bytearray(path.read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        how = draw(st.sampled_from(["flip", "cut", "dup", "splice", "truncate"]))
        if how == "flip":
            data[at] = draw(st.integers(0, 255))
        elif how == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif how == "dup":
            data[at:at] = data[at : at + draw(st.integers(1, 256))]
        elif how == "splice":
            data[at:at] = draw(st.sampled_from([b"\x00", b"<", b"&lt;", b"]]>", b'"', b"{", b"}",
                                                b"\\u0000", b"9" * 40, b"-1e999", b"<!DOCTYPE x>",
                                                b"\x1b]0;x\x07"]))  # fmt: skip
        else:
            del data[at:]
    return path.name, bytes(data)


@pytest.mark.skipif(
    not SAMPLES, reason="no real samples: ../shared/samples and ../shared/feeds absent"
)
@FUZZ
@given(case=mutated(), fmt=st.sampled_from([*PARSERS, "auto"]))
def test_a_mutated_real_document_raises_only_a_feed_error(
    case: tuple[str, bytes], fmt: str
) -> None:
    _, body = case
    _parse_or_feed_error(body, fmt)
    _detect_or_feed_error(body)

"""Fitting a page into one SMS segment (GSM 03.38).

One segment holds 160 GSM-7 septets, where the extension-table characters
`^{}\\[~]|€` cost two; a message with any character outside GSM-7 is sent as
UCS-2 and holds 70 UTF-16 code units. A page must never split (split segments
arrive out of order, or partly), so `fit` shortens: the title first, then the
annotation, never the head (severity, provider) or the ack instruction.

Typographic characters are mapped to GSM first (quotes, dashes, ellipsis,
non-breaking space), accents are stripped when the base letter is GSM, and
pictographs are dropped. A letter with no GSM form (Cyrillic, CJK, ...) keeps its
meaning only in UCS-2, so then the message is UCS-2 with the 70 limit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("^{}\\[~]|€")
_SPACES = re.compile(" {2,}")
GSM_LIMIT = 160
UCS2_LIMIT = 70

TYPOGRAPHIC = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-", "\u2026": "...", "\u00a0": " ", "\u2007": " ", "\u2009": " ",
    "\u202f": " ", "\u2002": " ", "\u2003": " ", "\t": " ", "\u2022": "*", "\u00b7": ".",
    "\u2192": "->", "\u2190": "<-", "\u00d7": "x", "ç": "Ç",
}  # fmt: skip


def septets(text: str) -> int:
    """GSM-7 cost of text already in the GSM alphabet."""
    return sum(2 if c in GSM_EXTENSION else 1 for c in text)


def ucs2_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _to_gsm_char(c: str) -> str | None:
    if c in GSM_BASIC or c in GSM_EXTENSION:
        return c
    if c in TYPOGRAPHIC:
        return TYPOGRAPHIC[c]
    base = "".join(ch for ch in unicodedata.normalize("NFKD", c) if not unicodedata.combining(ch))
    if base and all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in base):
        return base  # é is GSM already; á → a, ô → o, ﬁ → fi keep their meaning
    category = unicodedata.category(c)
    if category.startswith(("L", "N")):
        return None  # a letter or digit we cannot write in GSM: needs UCS-2
    if category.startswith("Z"):
        return " "
    return ""  # pictographs, marks, other symbols: decorative, dropped


def to_gsm(text: str) -> str | None:
    """`text` in the GSM-7 alphabet, or None when that would lose meaning."""
    out = []
    for c in text:
        mapped = _to_gsm_char(c)
        if mapped is None:
            return None
        out.append(mapped)
    return _SPACES.sub(" ", "".join(out))


@dataclass(frozen=True, slots=True)
class Encoded:
    text: str
    encoding: str  # "gsm7" or "ucs2"
    units: int  # septets or UTF-16 code units
    limit: int


def encode(text: str) -> Encoded:
    gsm = to_gsm(text)
    if gsm is not None:
        gsm = gsm.strip(" ")
        return Encoded(gsm, "gsm7", septets(gsm), GSM_LIMIT)
    return Encoded(text, "ucs2", ucs2_units(text), UCS2_LIMIT)


def fit(head: str, title: str, note: str = "", tail: str = "") -> Encoded:
    """`head + title + note + tail` in one segment, shortening title then note.

    `note` and `tail` include their own leading separators (". Upstream: ...").
    """
    parts = [head, title, note, tail]
    gsm_parts = [to_gsm(p) for p in parts]
    if all(p is not None for p in gsm_parts):
        h, t, n, tl = (p or "" for p in gsm_parts)
        t = t.strip(" ")
        return _fit(h, t, n, tl, septets, "gsm7", GSM_LIMIT, "...")
    return _fit(head, title, note, tail, ucs2_units, "ucs2", UCS2_LIMIT, "…")


def append(text: str, suffix: str, keep: str = "") -> Encoded:
    """`text + suffix` in one segment, shortening `text` from its end to make room.

    When `text` ends with `keep` (an ack instruction), that ending stays whole and
    `suffix` follows it; the start of `text` (severity, provider) is kept longest.
    """
    start = len(text) - len(keep) if keep and text.endswith(keep) else len(text)
    while 0 < start < len(text) and text[start - 1] in " .":
        start -= 1  # the separator before `keep` goes with it
    return fit("", text[:start], "", text[start:] + suffix)


MIN_TITLE = 30
MIN_NOTE = 12


def _fit(
    head: str,
    title: str,
    note: str,
    tail: str,
    cost: Callable[[str], int],
    encoding: str,
    limit: int,
    ell: str,
) -> Encoded:
    def shrink(text: str, budget: int) -> str:
        if cost(text) <= budget:
            return text
        room = budget - cost(ell)
        out, used = "", 0
        for c in text:
            if used + cost(c) > room:
                break
            out, used = out + c, used + cost(c)
        if out != text and " " in out[len(out) // 2 :]:
            out = out[: out.rindex(" ")]  # end on a whole word when that costs little
        out = out.rstrip(" .,;:-")
        return out + ell if out else ""

    def done(*pieces: str) -> Encoded:
        text = "".join(pieces).replace(ell + ".", ell)  # "title…. Upstream" reads badly
        text = _SPACES.sub(" ", text)
        return Encoded(text, encoding, cost(text), limit)

    avail = limit - cost(head) - cost(tail)
    if cost(title) + cost(note) <= avail:
        return done(head, title, note, tail)
    short_title = shrink(title, max(avail - cost(note), MIN_TITLE))
    if cost(short_title) + cost(note) <= avail:
        return done(head, short_title, note, tail)
    note_room = avail - cost(short_title)
    if note and note_room >= MIN_NOTE:
        return done(head, short_title, shrink(note, note_room), tail)
    title_only = shrink(title, avail)
    if title_only:
        return done(head, title_only, "", tail)
    # Pathological: head and tail alone nearly fill the segment.
    if cost(tail) < limit:
        return done(shrink(head + title, limit - cost(tail)), tail)
    return done(shrink(tail, limit))

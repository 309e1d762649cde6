"""Short hints for a name that is not known: "did you mean 'openai'?", else the first few
names that are. Every config message stays one short line, however long the list."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

MAX_LISTED = 4
MAX_QUOTED = 40


def quote(value: object) -> str:
    """`repr` of a user's value, clipped: a message quotes what it names, never a page of it."""
    text = repr(value)
    return text if len(text) <= MAX_QUOTED else text[: MAX_QUOTED - 2] + "…" + text[0]


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The one known name `word` was most likely meant to be, if any is close.

    Case is ignored for the comparison (`OpenAI` means `openai`), not in the answer."""
    by_lower: dict[str, str] = {}
    for choice in choices:
        by_lower.setdefault(choice.lower(), choice)
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[found[0]] if found else None


def listing(choices: Iterable[str], limit: int = MAX_LISTED) -> str:
    """'a, b, c, d, … (12 in all)': the first few names, sorted."""
    names = sorted(set(choices))
    if len(names) <= limit:
        return ", ".join(names)
    return f"{', '.join(names[:limit])}, … ({len(names)} in all)"


def hint(word: str, choices: Iterable[str], known: str = "known") -> str:
    """'; did you mean 'x'?' or ' (known: a, b, …)', to append to a message about `word`."""
    choices = list(choices)
    match = closest(word, choices)
    if match is not None:
        return f"; did you mean {match!r}?"
    if not choices:
        return ""
    return f" ({known}: {listing(choices)})"

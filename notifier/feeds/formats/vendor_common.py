"""Helpers shared by the cloud-vendor parsers (AWS, Google Cloud, Azure, Slack).

These vendors publish their own formats rather than Statuspage's, and none of
them states an incident's phase (investigating, identified, ...) per update. They
do say whether an update is open or closing, so every vendor parser derives the
phase the same way (`phase_statuses`), and a reader sees one vocabulary.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from notifier.feeds import json_doc
from notifier.feeds.errors import ParseError
from notifier.models import Impact, Status

_WS = re.compile(r"\s+")


def load_json(body: bytes) -> Any:
    """JSON from UTF-8 (with or without a BOM) or UTF-16/32 (with or without a BOM).

    AWS serves `currentevents` as UTF-16 with a BOM; copies saved by others are
    UTF-8. Raises `EmptyFeedError` for a blank body, `ParseError` otherwise.
    """
    if b"\x00" in body[:4] and not body.startswith((b"\xff\xfe", b"\xfe\xff")):
        # UTF-16/32 without a BOM: JSON's own rule (RFC 8259 section 8.1) tells which.
        try:
            body = body.decode(json.detect_encoding(body)).encode()
        except UnicodeDecodeError as exc:
            raise ParseError(f"not valid UTF-16/32 text at byte {exc.start}") from None
    return json_doc.load_json(body)


def one_line(text: str) -> str:
    """Titles are one line: collapse every run of whitespace to a space."""
    return _WS.sub(" ", text).strip()


def phase_statuses(closed_flags: Sequence[bool]) -> list[Status]:
    """Statuses for oldest-first updates that only say open or closed.

    The first open update is `investigating`, later open ones are `update`, a
    closing one is `resolved`; an update after a closing one reopens (`update`).
    """
    out: list[Status] = []
    for index, closed in enumerate(closed_flags):
        if closed:
            out.append(Status.RESOLVED)
        else:
            out.append(Status.INVESTIGATING if index == 0 else Status.UPDATE)
    return out


def worst(impacts: Iterable[Impact], floor: Impact = Impact.NONE) -> Impact:
    """The most severe impact of `impacts`, never below `floor`."""
    return max([floor, *impacts], key=lambda i: i.rank)


def epoch(value: object) -> datetime:
    """Epoch seconds given as an int, float or digit string, as aware UTC."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ParseError(f"expected epoch seconds, got {type(value).__name__}")
    try:
        return datetime.fromtimestamp(float(value), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise ParseError(f"not an epoch time: {str(value)[:40]!r}") from None


def iso_time(value: object) -> datetime:
    """An ISO 8601 time with an offset, converted to UTC."""
    if not isinstance(value, str):
        raise ParseError(f"expected an ISO 8601 time, got {type(value).__name__}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ParseError(f"not an ISO 8601 time: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        raise ParseError(f"time without an offset: {value[:40]!r}")
    return parsed.astimezone(UTC)


def short_hash(*parts: str) -> str:
    """Eight hex characters identifying `parts` (for ids a vendor does not give)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:8]


def require(condition: bool, message: str) -> None:
    """Raise a one-line `ParseError` unless `condition` holds."""
    if not condition:
        raise ParseError(message)


def as_str(value: object, what: str) -> str:
    require(isinstance(value, str), f"{what} is not a string")
    assert isinstance(value, str)
    return value


def as_list(value: object, what: str) -> list[Any]:
    require(isinstance(value, list), f"{what} is not a list")
    assert isinstance(value, list)
    return value


def as_dict(value: object, what: str) -> dict[str, Any]:
    require(isinstance(value, dict), f"{what} is not an object")
    assert isinstance(value, dict)
    return value

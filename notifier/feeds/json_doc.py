"""Safe JSON loading shared by the JSON feed formats."""

from __future__ import annotations

import json
from typing import Any

from notifier.feeds.errors import EmptyFeedError, ParseError
from notifier.feeds.xml import decode_text, looks_like_html


def load_json(body: bytes) -> Any:
    """Decode (BOM-aware, strict) and parse; every failure is a one-line `ParseError`."""
    text = decode_text(body)
    if not text.strip():
        raise EmptyFeedError("empty document")
    if looks_like_html(text[:512]):
        raise ParseError("got an HTML page, not a feed")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"not valid JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise ParseError("not valid JSON: nested too deeply") from None


def mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ParseError(f"{what} is not a JSON object")
    return value


def records(value: Any, what: str) -> list[dict[str, Any]]:
    """A JSON array of objects (null reads as empty)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ParseError(f"{what} is not a JSON array of objects")
    return value

"""A report's period: a month (`2025-11`) or a quarter (`2025Q4`), in UTC."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True, slots=True)
class Period:
    label: str
    start: datetime
    end: datetime  # exclusive


def _first(year: int, month: int) -> datetime:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=UTC)


def month(text: str) -> Period:
    m = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if m is None or not 1 <= int(m[2]) <= 12:
        raise ValueError(f"{text!r} is not a month: write it as 2025-11")
    y, mo = int(m[1]), int(m[2])
    return Period(f"{y:04d}-{mo:02d}", _first(y, mo), _first(y, mo + 1))


def quarter(text: str) -> Period:
    m = re.fullmatch(r"(\d{4})[Qq]([1-4])", text.strip())
    if m is None:
        raise ValueError(f"{text!r} is not a quarter: write it as 2025Q4")
    y, q = int(m[1]), int(m[2])
    return Period(f"{y:04d}Q{q}", _first(y, 3 * q - 2), _first(y, 3 * q + 1))


def last_months(now: datetime, n: int) -> Period:
    """The `n` whole months up to and including the current one."""
    end = _first(now.year, now.month + 1)
    start = _first(now.year, now.month - n + 1)
    return Period(f"{start:%Y-%m}..{now:%Y-%m}", start, end)


def months_in(period: Period) -> list[Period]:
    out, at = [], period.start
    while at < period.end:
        nxt = _first(at.year, at.month + 1)
        out.append(Period(f"{at:%Y-%m}", at, nxt))
        at = nxt
    return out

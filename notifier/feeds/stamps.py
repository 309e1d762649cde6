"""Year-less update stamps ("Apr 16, 01:46 UTC") to aware UTC datetimes.

Statuspage prints update times without a year, with a space-padded day, in the
page's own time zone, labelled by abbreviation. The year comes from a reference
date (the entry's published/updated date): an update month later than the
reference month belongs to the previous year (a December update of an incident
whose entry is dated January).
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

log = logging.getLogger(__name__)

MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}

# Abbreviations Statuspage pages show, as UTC offsets in minutes. Ambiguous ones
# take the reading a status page most likely means (IST = India, CST = US Central).
TZ_OFFSETS_MIN: dict[str, int] = {
    "UTC": 0, "GMT": 0, "Z": 0, "UT": 0, "WET": 0,
    "BST": 60, "IST": 330, "CET": 60, "CEST": 120, "WEST": 60, "MET": 60, "MEST": 120,
    "EET": 120, "EEST": 180, "MSK": 180, "GST": 240, "PKT": 300, "ICT": 420,
    "SGT": 480, "HKT": 480, "AWST": 480, "PHT": 480, "JST": 540, "KST": 540,
    "ACST": 570, "ACDT": 630, "AEST": 600, "AEDT": 660, "NZST": 720, "NZDT": 780,
    "EST": -300, "EDT": -240, "CST": -360, "CDT": -300, "MST": -420, "MDT": -360,
    "PST": -480, "PDT": -420, "AKST": -540, "AKDT": -480, "HST": -600, "AST": -240,
    "ADT": -180, "NST": -210, "NDT": -150, "BRT": -180, "ART": -180,
}  # fmt: skip

_STAMP = re.compile(
    r"(?P<mon>[A-Za-z]{3})[a-z]*\.?\s+(?P<day>\d{1,2}),?\s+(?:(?P<year>\d{4}),?\s+)?"
    r"(?:at\s+)?(?P<h>\d{1,2}):(?P<m>\d{2})\s*(?P<ampm>[AaPp][Mm])?"
)
_ZONE = re.compile(r"(?P<num>(?:UTC|GMT)?[+-]\d{1,2}(?::?\d{2})?)|\b(?P<abbr>[A-Z]{1,5})\b")


def zone_offset(text: str) -> timedelta:
    """Offset of the first time-zone label in `text`; unknown or absent labels are UTC."""
    for match in _ZONE.finditer(text):
        if match["num"]:
            return _numeric_offset(match["num"].removeprefix("UTC").removeprefix("GMT"))
        abbr = match["abbr"]
        if abbr in TZ_OFFSETS_MIN:
            return timedelta(minutes=TZ_OFFSETS_MIN[abbr])
        if abbr not in {"AM", "PM"}:
            log.debug("unknown time-zone label %r, reading it as UTC", abbr)
            return timedelta(0)
    return timedelta(0)


def _numeric_offset(num: str) -> timedelta:
    sign = -1 if num.startswith("-") else 1
    digits = num[1:].replace(":", "")
    hours, minutes = (digits, "0") if len(digits) <= 2 else (digits[:-2], digits[-2:])
    return sign * timedelta(hours=int(hours), minutes=int(minutes))


def parse_stamp(stamp: str, reference: datetime) -> datetime | None:
    """The UTC instant of a stamp like "Apr  6, 01:46 PDT", or None if it has no date."""
    match = _STAMP.search(stamp)
    if match is None or match["mon"].lower() not in MONTHS:
        return None
    month, day = MONTHS[match["mon"].lower()], int(match["day"])
    hour, minute = int(match["h"]), int(match["m"])
    if match["ampm"]:
        hour = hour % 12 + (12 if match["ampm"].lower() == "pm" else 0)
    year = int(match["year"]) if match["year"] else infer_year(month, reference)
    try:
        local = datetime(year, month, day, hour, minute, tzinfo=UTC)
    except ValueError:  # Feb 29 in an inferred non-leap year, or a mangled stamp
        return None
    return local - zone_offset(stamp[match.end() :])


def infer_year(month: int, reference: datetime) -> int:
    """The year of a month-day printed without a year, given the entry's date."""
    return reference.year if month <= reference.month else reference.year - 1

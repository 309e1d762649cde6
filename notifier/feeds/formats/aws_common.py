"""What the AWS formats share: the status table, region codes and derived ids."""

from __future__ import annotations

import re
from datetime import datetime

from notifier.feeds.errors import ParseError
from notifier.feeds.formats.vendor_common import one_line
from notifier.models import Impact

DASHBOARD_URL = "https://health.aws.amazon.com/health/status"

# AWS status code -> (closing?, impact). 0 "Service is operating normally" (or
# resolved), 1 "Informational message", 2 "Service degradation", 3 "Service disruption".
AWS_STATUS: dict[int, tuple[bool, Impact]] = {
    0: (True, Impact.NONE),
    1: (False, Impact.MINOR),
    2: (False, Impact.MAJOR),
    3: (False, Impact.CRITICAL),
}

_REGION = re.compile(
    r"((?:us|eu|ap|sa|ca|me|af|il|mx|cn)(?:-gov|-iso[a-z]?)?"
    r"-(?:north|south|east|west|central|northeast|northwest|southeast|southwest)-\d+)$"
)
# Service keys that name a region by an old alias rather than its code.
_REGION_ALIASES = {"us-standard": "us-east-1"}
RESOLVED_PREFIX = re.compile(r"^\s*\[(?:RESOLVED|解決済み?)\]\s*", re.IGNORECASE)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
REGION_SUFFIX = re.compile(r"\s*\([^()]*\)\s*$")


def aws_status(value: object) -> tuple[bool, Impact]:
    """A status given as 0..3 or "0".."3" to (closing?, impact)."""
    code: object = value
    if isinstance(value, str) and value.strip().isdigit():
        code = int(value)
    if isinstance(code, bool) or not isinstance(code, int) or code not in AWS_STATUS:
        raise ParseError(f"unknown AWS status {str(value)[:20]!r}")
    return AWS_STATUS[code]


def region_of(service_key: str) -> tuple[str, ...]:
    """`ec2-us-east-1` -> ("us-east-1",); global services (`route53`) -> ()."""
    for alias, code in _REGION_ALIASES.items():
        if service_key.endswith(alias):
            return (code,)
    match = _REGION.search(service_key)
    return (match.group(1),) if match else ()


def english(title: str) -> str:
    """The English half of a bilingual `JA | EN` title (AWS's Japan regions), else all."""
    halves = [h.strip() for h in title.split(" | ")]
    if len(halves) > 1 and _NON_ASCII.search(halves[0]):
        return halves[-1]
    return title


def is_resolved(title: str) -> bool:
    """Whether a title carries "[RESOLVED]" (or the Japanese "[解決済]") in either half."""
    return any(RESOLVED_PREFIX.match(h) for h in title.split(" | "))


def strip_resolved(summary: str) -> str:
    """Titles stay stable and English: drop "[RESOLVED]" (added on close) and the JA half."""
    return one_line(RESOLVED_PREFIX.sub("", english(one_line(RESOLVED_PREFIX.sub("", summary)))))


def derived_id(service_key: str, start: datetime) -> str:
    return f"{service_key}-{start:%Y%m%dT%H%M%SZ}"

"""The field types of the subscription file: the strict base model, and the validated
kinds of value (phone numbers, time zones, times of day, environment variable names)."""

from __future__ import annotations

import os
import re
from datetime import time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, SecretStr

from notifier.config.suggest import closest, quote
from notifier.safeurl import split_clean

ChannelName = Literal["slack", "sms", "email", "pagerduty", "opsgenie", "webhook", "apprise"]
CHANNELS: tuple[ChannelName, ...] = ChannelName.__args__  # type: ignore[attr-defined]
ImpactName = Literal["none", "minor", "major", "critical"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[str, ...] = Weekday.__args__  # type: ignore[attr-defined]

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class Strict(BaseModel):
    # Inputs stay out of ValidationError text: a webhook URL in them is a secret.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


def _phone(value: str) -> str:
    if not _E164.match(value):
        raise ValueError(f"{value!r} is not an E.164 phone number (like +12025550100)")
    return value


def _tz(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        match = closest(value, available_timezones())
        fix = f"did you mean {match!r}?" if match else "use an IANA name like Europe/Berlin"
        raise ValueError(f"unknown time zone {quote(value)}; {fix}") from None
    return value


def _hhmm(value: Any) -> time:
    if isinstance(value, int):  # YAML 1.1 reads unquoted 09:00 as sexagesimal 540
        value = f"{value // 60:02d}:{value % 60:02d}"
    if isinstance(value, time):
        return value
    m = _HHMM.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a time of day as HH:MM (24-hour)")
    return time(int(m.group(1)), int(m.group(2)))


def parse_weekday(value: str | int) -> int:
    """Monday = 0 ... Sunday = 6, from a day number or a name of at least three letters
    in any case ("tue", "Tuesday"); ValueError otherwise."""
    if isinstance(value, int):
        if not 0 <= value <= 6:
            raise ValueError(f"weekday {value} is not 0 (Monday) to 6 (Sunday)")
        return value
    name = value.strip().lower()
    for i, day in enumerate(WEEKDAYS):
        if day.startswith(name[:3]) and len(name) >= 3:
            return i
    raise ValueError(f"unknown weekday {value!r}")


def parse_time(value: str | time) -> time:
    """A time of day from "H[:MM]" (lenient; the file's own times are `HHMM`)."""
    if isinstance(value, time):
        return value
    hours, _, minutes = value.strip().partition(":")
    return time(int(hours), int(minutes or 0))


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def webhook_ok(url: str) -> bool:
    """https with a host; plain http only to this machine (a local relay or test fake),
    where the secret never crosses a network."""
    parts = split_clean(url)
    if parts is None:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)


SECRET_NOT_NAME = "this looks like a secret, not a variable name"


def looks_like_secret(value: str) -> bool:
    """Whether a value given where an environment variable NAME belongs looks like the
    secret itself (a pasted routing key, token or URL). Names are words: PD_ROUTING_KEY."""
    if any(c in value for c in ":/@.-") or len(value) > 64:
        return True
    digits = sum(c.isdigit() for c in value)
    lower, upper = any(c.islower() for c in value), any(c.isupper() for c in value)
    if len(value) >= 16 and "_" not in value and digits >= 3:
        return True  # a hex or base62 key: 32 hex characters, a UUID without dashes
    return len(value) >= 20 and lower and upper and digits >= 3


def _env_name(value: str) -> str:
    # The value is never quoted back: what was given may be the secret itself.
    if looks_like_secret(value):
        raise ValueError(f"{SECRET_NOT_NAME} (not shown); name its variable, like PD_KEY")
    if not _ENV.match(value):
        raise ValueError("not an environment variable name (not shown); like PD_ROUTING_KEY")
    return value


Phone = Annotated[str, AfterValidator(_phone)]
# The name of an environment variable that holds a secret: the file names it, never holds it.
EnvName = Annotated[str, AfterValidator(_env_name)]
TimeZoneName = Annotated[str, AfterValidator(_tz)]
HHMM = Annotated[time, BeforeValidator(_hhmm)]


def env_secret(name: str | None) -> SecretStr | None:
    """The value of environment variable `name` as a secret (None: unset or empty)."""
    value = os.environ.get(name or "", "") if name else ""
    return SecretStr(value) if value else None

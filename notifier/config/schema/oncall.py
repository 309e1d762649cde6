"""The subscription file's on-call rotations: members, the weekly handoff, and the
escalation delay, as the file states them (`notifier.route.oncall` reads them)."""

from __future__ import annotations

from datetime import date, time

from pydantic import Field

from notifier.config.schema.fields import HHMM, Phone, Strict, TimeZoneName, Weekday


class Member(Strict):
    name: str = Field(description="Person's name, shown in escalations.")
    phone: Phone = Field(description="E.164 phone number for SMS pages.")


class Handoff(Strict):
    weekday: Weekday = Field("monday", description="Day the next member takes over.")
    time: HHMM = Field(time(9, 0), description="HH:MM local time of the handoff.")
    timezone: TimeZoneName = Field("UTC", description="IANA time zone of the handoff time.")


class Rotation(Strict):
    """One rotation as the file states it. Who is on call when, and the escalation
    order and delay, are on-call policy: `notifier.route.oncall` reads this model."""

    members: list[Member] = Field(min_length=1, description="On-call order; one per week.")
    handoff: Handoff = Field(Handoff.model_validate({}), description="When the week turns over.")
    start: date | None = Field(
        None, description="Date of a handoff at which members[0] was on call (default 1970-01-05)."
    )
    escalate_after_minutes: int | None = Field(
        None, ge=1, description="Page the next member if nobody acknowledges within this."
    )


class Oncall(Strict):
    rotations: dict[str, Rotation] = Field(default_factory=dict, description="Named rotations.")

"""Routing: filters, maintenance policy, continuing threads, quiet hours across DST."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notifier.models import ChangeEvent, EventKind, Impact, IncidentKind, Status
from notifier.route.match import HasThread, quiet_until, route_event
from tests.planning_helpers import at, config, event, incident

CFG = config(
    """
    providers:
      - id: openai
      - id: azure
      - id: github
        components: [Actions, Git Operations]
    subscribers:
      - name: ops
        slack: {channel: "#ops"}
        sms: {to: ["+15550100"]}
        filters: {providers: [openai, github], min_impact: minor}
        channels_filters:
          sms: {min_impact: major, events: [new_incident, resolved]}
      - name: eu
        email: {to: [eu@example.com]}
        filters: {regions: [West Europe], components: [Virtual Machines]}
        maintenance: only_start_and_end
      - name: quiet
        slack: {channel: "#quiet"}
        maintenance: ignore
        filters: {events: [new_incident, resolved]}
    """
)
NOTHING_YET = lambda s, c: False  # noqa: E731
ALL_OPEN = lambda s, c: True  # noqa: E731


def _routes(ev: ChangeEvent, has_thread: HasThread = NOTHING_YET) -> list[str]:
    found = route_event(ev, CFG, ev.detected_at, has_thread)
    return sorted(f"{r.subscriber.name}/{r.channel}" for r in found)


T = "2024-12-26 19:00"


@pytest.mark.parametrize(
    ("case", "ev", "has_thread", "expected"),
    [
        # a major OpenAI incident: ops on both channels, eu (no regions/components
        # named: passes), quiet (new_incident is in its events)
        (
            "major new",
            event(incident("openai", "a", T, impact=Impact.MAJOR)),
            NOTHING_YET,
            ["eu/email", "ops/slack", "ops/sms", "quiet/slack"],
        ),
        # minor: below the SMS route's min_impact
        (
            "minor new",
            event(incident("openai", "a", T, impact=Impact.MINOR)),
            NOTHING_YET,
            ["eu/email", "ops/slack", "quiet/slack"],
        ),
        # impact none: below ops' min_impact everywhere
        (
            "no impact",
            event(incident("openai", "a", T, impact=Impact.NONE)),
            NOTHING_YET,
            ["eu/email", "quiet/slack"],
        ),
        # azure is not in ops' providers; eu wants West Europe VMs and gets them
        (
            "region match",
            event(
                incident(
                    "azure", "b", T, regions=("West Europe",), components=("Virtual Machines",)
                )
            ),
            NOTHING_YET,
            ["eu/email", "quiet/slack"],
        ),
        # a region elsewhere is filtered out for eu
        (
            "region mismatch",
            event(
                incident("azure", "b", T, regions=("East US",), components=("Virtual Machines",))
            ),
            NOTHING_YET,
            ["quiet/slack"],
        ),
        # github's provider-level component filter drops a Pages incident for everyone
        (
            "provider component filter",
            event(incident("github", "c", T, components=("Pages",))),
            NOTHING_YET,
            [],
        ),
        # ...but lets an Actions incident through (case-insensitive); eu wants
        # Virtual Machines only
        (
            "provider component match",
            event(incident("github", "c", T, components=("actions",))),
            NOTHING_YET,
            ["ops/slack", "ops/sms", "quiet/slack"],
        ),
        # an update about an incident no route has heard of is news everywhere, even
        # where `events` lists only new_incident (quiet, ops/sms)
        (
            "update, first on the route",
            event(incident("openai", "a", T), EventKind.NEW_UPDATE),
            NOTHING_YET,
            ["eu/email", "ops/slack", "ops/sms", "quiet/slack"],
        ),
        # an update to open threads: SMS events exclude it
        (
            "update, thread open",
            event(incident("openai", "a", T), EventKind.NEW_UPDATE),
            ALL_OPEN,
            ["eu/email", "ops/slack"],
        ),
        # downgraded to impact none before resolving: the resolution reaches every
        # route that heard about the incident, SMS included
        (
            "resolution after downgrade",
            event(
                incident("openai", "a", T, impact=Impact.NONE, resolved="2024-12-26 20:00"),
                EventKind.RESOLVED,
            ),
            ALL_OPEN,
            ["eu/email", "ops/slack", "ops/sms", "quiet/slack"],
        ),
        # a resolution of something never sent, below min_impact: nobody
        (
            "resolution never announced",
            event(
                incident("openai", "a", T, impact=Impact.NONE, resolved="2024-12-26 20:00"),
                EventKind.RESOLVED,
            ),
            NOTHING_YET,
            ["eu/email", "quiet/slack"],
        ),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_filters_pick_the_routes(
    case: str, ev: ChangeEvent, has_thread: HasThread, expected: list[str]
) -> None:
    assert _routes(ev, has_thread) == expected, case


MAINT = incident(
    "openai",
    "m",
    T,
    impact=Impact.MAINTENANCE,
    kind=IncidentKind.MAINTENANCE,
    status=Status.SCHEDULED,
)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        # scheduled: only `notify` subscribers (ops) hear it; min_impact does not apply
        (EventKind.MAINTENANCE_SCHEDULED, ["ops/slack"]),
        # started: only_start_and_end (eu) joins; quiet ignores maintenance
        (EventKind.MAINTENANCE_STARTED, ["eu/email", "ops/slack"]),
        (EventKind.MAINTENANCE_COMPLETED, ["eu/email", "ops/slack"]),
        # an update on a maintenance: not start or end
        (EventKind.NEW_UPDATE, ["ops/slack"]),
    ],
)
def test_the_maintenance_policy_applies(kind: EventKind, expected: list[str]) -> None:
    assert _routes(event(MAINT, kind)) == expected


def test_an_incident_that_escalates_reaches_sms_as_new() -> None:
    # minor at first (SMS skipped), then raised to major: SMS gets it as news
    ev = event(incident("openai", "a", T, impact=Impact.MAJOR), EventKind.IMPACT_CHANGED)
    has = lambda s, c: c != "sms"  # noqa: E731
    assert _routes(ev, has) == ["eu/email", "ops/slack", "ops/sms"]


# ---- quiet hours ----------------------------------------------------------------------

QUIET = """
providers: [{id: openai}]
subscribers:
  - name: night
    slack: {channel: "#n"}
    email: {to: [n@example.com]}
    quiet_hours: {start: "22:00", end: "07:00", timezone: TZ, mode: MODE, channels: [slack]}
"""


def _utc(s: str) -> datetime:
    return datetime.fromisoformat(s).astimezone(UTC)


@pytest.mark.parametrize(
    ("tz", "now", "until"),
    [
        # New York, winter (EST, UTC-5): 23:30 local → held until 07:00 EST = 12:00Z
        ("America/New_York", "2025-01-15T04:30:00Z", "2025-01-15T12:00:00Z"),
        # just before quiet hours begin: not held
        ("America/New_York", "2025-01-15T02:59:00Z", None),
        # at 07:00 sharp they are over
        ("America/New_York", "2025-01-15T12:00:00Z", None),
        # spring forward night (Mar 9 2025, 02:00 → 03:00): 23:00 EST on Mar 8;
        # 07:00 next morning is EDT (UTC-4) = 11:00Z
        ("America/New_York", "2025-03-09T04:00:00Z", "2025-03-09T11:00:00Z"),
        # the same night, after the jump (03:30 EDT)
        ("America/New_York", "2025-03-09T07:30:00Z", "2025-03-09T11:00:00Z"),
        # fall back night (Nov 2 2025, 02:00 → 01:00): 01:30 EDT, then EST ends it at 12:00Z
        ("America/New_York", "2025-11-02T05:30:00Z", "2025-11-02T12:00:00Z"),
        # the repeated 01:30 (now EST) is still inside
        ("America/New_York", "2025-11-02T06:30:00Z", "2025-11-02T12:00:00Z"),
        # Berlin spring forward (Mar 30 2025): 22:30 CET on Mar 29 → 07:00 CEST = 05:00Z
        ("Europe/Berlin", "2025-03-29T21:30:00Z", "2025-03-30T05:00:00Z"),
        # Berlin fall back (Oct 26 2025): 23:00 CEST on Oct 25 → 07:00 CET = 06:00Z
        ("Europe/Berlin", "2025-10-25T21:00:00Z", "2025-10-26T06:00:00Z"),
        # Berlin summer afternoon: not quiet
        ("Europe/Berlin", "2025-07-01T12:00:00Z", None),
    ],
)
def test_quiet_hours_hold_until_their_local_end_across_dst(
    tz: str, now: str, until: str | None
) -> None:
    cfg = config(QUIET.replace("TZ", tz).replace("MODE", "hold"))
    qh = cfg.subscribers[0].quiet_hours
    assert qh is not None
    got = quiet_until(qh, _utc(now))
    assert got == (_utc(until) if until else None)
    if got is not None:
        assert got.tzinfo is UTC


@pytest.mark.parametrize(
    ("mode", "impact", "kind", "has_thread", "slack"),
    [
        # hold: the Slack alert waits for 07:00 (email is not a quiet channel)
        ("hold", Impact.MAJOR, EventKind.NEW_INCIDENT, False, "held"),
        # suppress: dropped
        ("suppress", Impact.MAJOR, EventKind.NEW_INCIDENT, False, "dropped"),
        # critical always goes through, in either mode
        ("suppress", Impact.CRITICAL, EventKind.NEW_INCIDENT, False, "now"),
        ("hold", Impact.CRITICAL, EventKind.NEW_INCIDENT, False, "now"),
        # the resolution of something announced is held, never dropped
        ("suppress", Impact.MAJOR, EventKind.RESOLVED, True, "held"),
    ],
)
def test_quiet_hours_modes(
    mode: str, impact: Impact, kind: EventKind, has_thread: bool, slack: str
) -> None:
    cfg = config(QUIET.replace("TZ", "Europe/Berlin").replace("MODE", mode))
    resolved = "2025-01-15 23:00" if kind is EventKind.RESOLVED else None
    ev = event(incident("openai", "a", "2025-01-15 23:00", impact=impact, resolved=resolved), kind)
    routes = {
        r.channel: r for r in route_event(ev, cfg, at("2025-01-15 23:00"), lambda s, c: has_thread)
    }
    assert routes["email"].hold_until is None
    got = (
        "dropped"
        if "slack" not in routes
        else "now"
        if routes["slack"].hold_until is None
        else "held"
    )
    assert got == slack
    if got == "held":
        assert routes["slack"].hold_until == at("2025-01-16 06:00")

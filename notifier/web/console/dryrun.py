""" "If Azure had a major incident in southcentralus now, who would be told, and how?"

A synthetic change event run through the service's own routing
(`notifier.route.match.route_event`), as the first alert of a new incident: nothing
is stored, claimed or sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from notifier.config.schema import Config, Subscriber
from notifier.models import ChangeEvent, EventKind, Impact, Incident, IncidentKind, Status
from notifier.route.match import route_event

KINDS = (
    EventKind.NEW_INCIDENT,
    EventKind.NEW_UPDATE,
    EventKind.RESOLVED,
    EventKind.MAINTENANCE_SCHEDULED,
    EventKind.MAINTENANCE_STARTED,
    EventKind.FEED_UNREACHABLE,
)
IMPACTS = ("minor", "major", "critical", "maintenance", "none")


@dataclass(frozen=True, slots=True)
class Question:
    provider: str
    impact: str = "major"
    kind: str = EventKind.NEW_INCIDENT.value
    regions: tuple[str, ...] = ()
    components: tuple[str, ...] = ()

    @classmethod
    def of(cls, params: dict[str, str]) -> Question | None:
        """From the form's query parameters; None when no provider was asked about."""
        provider = params.get("provider", "").strip()
        if not provider:
            return None
        impact = params.get("impact", "major")
        kind = params.get("kind", EventKind.NEW_INCIDENT.value)
        return cls(
            provider=provider,
            impact=impact if impact in IMPACTS else "major",
            kind=kind if kind in {k.value for k in KINDS} else EventKind.NEW_INCIDENT.value,
            regions=_list(params.get("regions", "")),
            components=_list(params.get("components", "")),
        )


@dataclass(frozen=True, slots=True)
class Answer:
    subscriber: str
    channel: str
    how: str  # where it goes, in words
    when: str  # "now", or when quiet hours end
    pages: bool  # the channel's own events list names this kind (it may page)


def ask(question: Question, config: Config, now: datetime) -> list[Answer]:
    """Who hears of the synthetic event, on which channel, and when."""
    event = synthetic_event(question, config, now)
    out = []
    for route in route_event(event, config, now, lambda _s, _c: False):
        when = "now" if route.hold_until is None else (
            "held until " + route.hold_until.strftime("%d %b %H:%M UTC") + " (quiet hours)"
        )  # fmt: skip
        out.append(Answer(route.subscriber.name, route.channel, destination(route.subscriber,
                          route.channel, config), when, route.explicit))  # fmt: skip
    return out


def synthetic_event(question: Question, config: Config, now: datetime) -> ChangeEvent:
    maintenance = question.impact == "maintenance"
    incident = Incident(
        provider=question.provider,
        id="dry-run",
        title=f"Dry run: {config.provider_name(question.provider)} {question.impact} incident",
        url=None,
        status=Status.IN_PROGRESS if maintenance else Status.INVESTIGATING,
        impact=Impact(question.impact),
        kind=IncidentKind.MAINTENANCE if maintenance else IncidentKind.INCIDENT,
        started_at=now,
        updated_at=now,
        resolved_at=None,
        components=question.components,
        regions=question.regions,
    )
    return ChangeEvent("dry-run", EventKind(question.kind), question.provider, "dry-run", now,
                       incident)  # fmt: skip


def destination(sub: Subscriber, channel: str, config: Config) -> str:
    """Where `channel` reaches for `sub`, without secrets (a webhook URL is one): the
    Slack channel, the SMS numbers' last digits or rotation, the email addresses."""
    if channel == "slack" and sub.slack is not None:
        return sub.slack.channel or "its webhook"
    if channel == "sms" and sub.sms is not None:
        if sub.sms.rotation:
            return f"rotation {sub.sms.rotation}"
        return ", ".join("***" + n[-4:] for n in sub.sms.to or ())
    if channel == "email" and sub.email is not None:
        return ", ".join(sub.email.to)
    return channel


def _list(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.replace(";", ",").split(",") if v.strip())

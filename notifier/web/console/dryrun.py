""" "If Azure had a major incident in southcentralus now, who would be told, and how?"

A synthetic change event run through the service's own routing
(`notifier.route.match.route_event`), as the first alert of a new incident: nothing
is stored, claimed or sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from notifier.config.carries import carries, filter_limits, impact_possible, impact_words
from notifier.config.schema import Config
from notifier.config.schema.subscribers import Subscriber
from notifier.config.suggest import closest, listing, quote
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
    def of(cls, params: Mapping[str, str], config: Config | None = None) -> Question | None:
        """From the form's query parameters; None when no provider was asked about.
        Raises `ValueError` with a message for the page on an unknown provider (not
        watched by `config`), impact or event kind."""
        provider = params.get("provider", "").strip()
        if not provider:
            return None
        impact = params.get("impact", "major").strip()
        kind = params.get("kind", EventKind.NEW_INCIDENT.value).strip()
        if config is not None:
            watched = [p.id for p in config.providers]
            if provider not in watched:
                raise ValueError(f"unknown provider {quote(provider)}: this file watches"
                                 f" {listing(watched)}{_mean(provider, watched)}")  # fmt: skip
        if impact not in IMPACTS:
            raise ValueError(f"unknown impact {quote(impact)}: one of {', '.join(IMPACTS)}"
                             f"{_mean(impact, IMPACTS)}")  # fmt: skip
        kinds = [k.value for k in KINDS]
        if kind not in kinds:
            raise ValueError(f"unknown event {quote(kind)}: one of {', '.join(kinds)}"
                             f"{_mean(kind, kinds)}")  # fmt: skip
        return cls(
            provider=provider,
            impact=impact,
            kind=kind,
            regions=_list(params.get("regions", "")),
            components=_list(params.get("components", "")),
        )


def _mean(word: str, choices: Sequence[str]) -> str:
    match = closest(word, choices)
    return f"; did you mean {match!r}?" if match else ""


def notes(question: Question, config: Config) -> list[str]:
    """What the provider's feed cannot carry, said next to the answer: an impact it
    never reads, and each route whose filter can therefore never match
    (`notifier.config.carries`)."""
    provider = next((p for p in config.resolved_providers() if p.id == question.provider), None)
    if provider is None:
        return []
    out = []
    c = carries(provider.format)
    if c is not None and not impact_possible(provider.format, Impact(question.impact)):
        out.append(f"{impact_words(provider.id, c)}: a {question.impact} incident cannot be"
                   " read from it, so this cannot happen as asked")  # fmt: skip
    for sub in config.subscribers:
        for channel in sub.channel_names():
            f = sub.filters_for(channel)
            if f.providers is not None and provider.id not in f.providers:
                continue
            for _, message in filter_limits(provider, f, config.catalog):
                out.append(f"{sub.name} ({channel}): {message}")
    return out


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

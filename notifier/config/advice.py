"""Warnings: a valid subscription file that would still fail silently.

`config_warnings(config, catalog, settings, now)` yields (location, message) like the
cross-reference rules, for things that are allowed but almost certainly not meant:
a channel with no credentials in the settings (its alerts go to the fallback, or
nowhere), a fallback that cannot deliver, nothing watched or nobody told, filters
that can never match, a rotation nobody pages or that has not started.

Which channel can deliver mirrors `notifier.channels.build.build_channels`: with no
vendor credentials at all the console stands in for every channel (a fresh install),
otherwise a route to an unconfigured vendor fails permanently.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from notifier.config.carries import filter_limits, regions_unfiltered
from notifier.config.catalog import Catalog
from notifier.config.references import Loc, Problem
from notifier.config.schema import Config
from notifier.config.schema.fields import ChannelName
from notifier.config.schema.subscribers import Filters, Subscriber
from notifier.config.suggest import closest, quote

if TYPE_CHECKING:
    from notifier.config.settings import Settings

NEEDS: dict[str, str] = {
    "slack": "NOTIFIER_SLACK_TOKEN",
    "sms": "NOTIFIER_TWILIO_ACCOUNT_SID, _AUTH_TOKEN and _FROM",
    "email": "NOTIFIER_SMTP_HOST",
}


def config_warnings(
    config: Config,
    catalog: Catalog,
    settings: Settings | None,
    now: datetime,
    seen_components: Mapping[str, Collection[str]] | None = None,
) -> Iterator[Problem]:
    """`seen_components`: per provider, every component name its feed has listed in the
    running service's polls (Redis); a filter naming none of them never matches."""
    if not config.providers:
        yield ("providers",), "no providers: nothing is polled"
    if not config.subscribers:
        yield ("subscribers",), "no subscribers: changes are found but nobody is told"
    if settings is not None:
        yield from _credentials(config, settings)
    for i, sub in enumerate(config.subscribers):
        yield from _fallback_itself(("subscribers", i), sub)
        yield from _dead_filters(("subscribers", i), sub, config, catalog)
        yield from _uncarried(("subscribers", i), sub, config, catalog)
    seen = seen_components or {}
    for i, p in enumerate(config.providers):
        entry = catalog.get(p.id)
        if seen.get(p.id):
            yield from _never_listed(("providers", i, "components"), p.id, p.components, seen[p.id])
        elif entry is not None and entry.components:
            for j, name in enumerate(p.components):
                yield from _unknown_component(
                    ("providers", i, "components", j), name, {p.id: entry.components}
                )
    yield from _rotations(config, now)


# ---- credentials ------------------------------------------------------------------


def _can_deliver(settings: Settings) -> dict[str, bool]:
    return {
        "slack": settings.slack_token is not None,  # a `channel:` route; webhooks need none
        "sms": bool(
            settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from
        ),
        "email": bool(settings.smtp_host),
    }


def _env_route(sub: Subscriber, channel: str) -> str | None:
    """The environment variable a route that brings its own key reads it from."""
    route = getattr(sub, channel, None)
    for field in ("routing_key_env", "api_key_env", "urls_env", "secret_env"):
        if route is not None and getattr(route, field, None):
            return str(getattr(route, field))
    return None


def _needs(sub: Subscriber, channel: str) -> str:
    env = _env_route(sub, channel)
    return f"{env} set in the environment" if env else NEEDS[channel]


def _credentials(config: Config, settings: Settings) -> Iterator[Problem]:
    ready = _can_deliver(settings)
    hooks = any(s.slack is not None and s.slack.webhook_url for s in config.subscribers)
    # Routes that bring their own keys (pagerduty, opsgenie, webhook, apprise) make real
    # channels, so the console no longer stands in for everything.
    own = any(_env_route(s, c) or c == "webhook" for s in config.subscribers
              for c in s.channel_names())  # fmt: skip
    if config.subscribers and not (
        any(ready.values()) or settings.slack_webhook_url or hooks or own
    ):
        yield (
            ("subscribers",),
            "no channel credentials are set: every alert prints to stdout instead",
        )
        return
    for i, sub in enumerate(config.subscribers):
        loc: Loc = ("subscribers", i)
        usable = {ch: _route_ready(sub, ch, ready) for ch in sub.channel_names()}
        fallback = sub.fallback
        for ch, ok in usable.items():
            if ok or ch == fallback:
                continue
            if fallback is not None and usable.get(fallback):
                then = f"its alerts go to the fallback {fallback!r}"
            else:
                then = "its alerts are lost (no fallback that can deliver)"
            yield (*loc, ch), f"{ch} cannot deliver without {_needs(sub, ch)}: {then}"
        if fallback is not None and fallback in usable and not usable[fallback]:
            yield (
                (*loc, "fallback"),
                f"fallback {fallback!r} cannot deliver without {_needs(sub, fallback)}",
            )


def _route_ready(sub: Subscriber, channel: ChannelName, ready: dict[str, bool]) -> bool:
    if channel == "slack" and sub.slack is not None and sub.slack.webhook_url is not None:
        return True
    if channel == "webhook" and sub.webhook is not None:
        secret = sub.webhook.secret_env
        return secret is None or bool(os.environ.get(secret))
    env = _env_route(sub, channel)
    if env is not None:
        return bool(os.environ.get(env))
    return ready[channel]


def _fallback_itself(loc: Loc, sub: Subscriber) -> Iterator[Problem]:
    if sub.fallback is not None and sub.channel_names() == [sub.fallback]:
        yield (
            (*loc, "fallback"),
            f"fallback {sub.fallback!r} is this subscriber's only channel: it cannot catch"
            " its own failures",
        )


# ---- filters that can never match ---------------------------------------------------


def _dead_filters(loc: Loc, sub: Subscriber, config: Config, catalog: Catalog) -> Iterator[Problem]:
    sets: list[tuple[Loc, Filters]] = [((*loc, "filters"), sub.filters)]
    sets += [((*loc, "channels_filters", ch), f) for ch, f in sub.channels_filters.items()]
    watched = [p.id for p in config.providers]
    for floc, f in sets:
        for key in ("providers", "events"):
            if getattr(f, key) == []:
                yield (*floc, key), f"an empty `{key}` list matches nothing: this hears nothing"
        heard = f.providers if f.providers is not None else watched
        if f.components is None:
            continue
        lists = {}
        for pid in heard:
            entry = catalog.get(pid)
            if entry is None or not entry.components:
                break  # a provider whose components are unknown may name any
            lists[pid] = entry.components
        else:
            for j, name in enumerate(f.components):
                yield from _unknown_component((*floc, "components", j), name, lists)


def _uncarried(loc: Loc, sub: Subscriber, config: Config, catalog: Catalog) -> Iterator[Problem]:
    """A filter the heard providers' feeds cannot satisfy (`notifier.config.carries`):
    `min_impact: minor` on a feed that carries no impact never alerts."""
    try:
        resolved = {p.id: p for p in config.resolved_providers()}
    except ValueError:  # a provider without a feed: reported by the load itself
        return
    # A channel's override is judged as it applies (merged with `filters`), on the keys
    # it sets itself; the rest is said once, at `filters`.
    sets: list[tuple[Loc, Filters, Filters]] = [((*loc, "filters"), sub.filters, sub.filters)]
    sets += [((*loc, "channels_filters", ch), f, sub.filters_for(ch))
             for ch, f in sub.channels_filters.items()]  # fmt: skip
    for floc, own, f in sets:
        heard = f.providers if f.providers is not None else list(resolved)
        providers = [resolved[pid] for pid in dict.fromkeys(heard) if pid in resolved]
        for provider in providers:
            for key, message in filter_limits(provider, f, catalog):
                if getattr(own, key) is not None:
                    yield (*floc, key), message
        if own.regions is not None and (message := regions_unfiltered(providers, f)):
            yield (*floc, "regions"), message


def _never_listed(
    loc: Loc, provider: str, wanted: Collection[str], listed: Collection[str]
) -> Iterator[Problem]:
    """A filter naming a component the feed has never listed (case-insensitive)."""
    names = {n.lower() for n in listed}
    for j, name in enumerate(wanted):
        if name.lower() not in names:
            match = closest(name, set(listed))
            fix = f"; did you mean {match!r}?" if match else ""
            yield (
                (*loc, j),
                f"component {quote(name)} matches nothing {provider}'s feed has listed{fix}",
            )


def _unknown_component(loc: Loc, name: str, lists: dict[str, tuple[str, ...]]) -> Iterator[Problem]:
    """A component no heard provider lists matches only incidents that name none."""
    names = {c for components in lists.values() for c in components}
    if not lists or name.lower() in {c.lower() for c in names}:
        return
    match = closest(name, names)
    fix = f"; did you mean {match!r}?" if match else ""
    yield (
        loc,
        f"component {quote(name)} is in no watched provider's list: only incidents naming"
        f" none match{fix}",
    )


# ---- on-call -------------------------------------------------------------------------


def _rotations(config: Config, now: datetime) -> Iterator[Problem]:
    used = {s.sms.rotation for s in config.subscribers if s.sms is not None and s.sms.rotation}
    for name, rotation in config.oncall.rotations.items():
        loc: Loc = ("oncall", "rotations", name)
        if name not in used:
            yield loc, f"rotation {name!r} is used by no subscriber's sms: nobody is paged from it"
        today = now.astimezone(ZoneInfo(rotation.handoff.timezone)).date()
        if rotation.start is not None and rotation.start > today:
            yield (
                (*loc, "start"),
                f"starts {rotation.start.isoformat()}, in the future: nobody's turn has begun"
                " (pages follow the turns counted back from it)",
            )

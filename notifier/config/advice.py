"""Warnings: a valid subscription file that would still fail silently.

`config_warnings(config, catalog, settings, now)` yields (location, message) like the
cross-reference rules, for things that are allowed but almost certainly not meant:
a channel with no credentials in the settings (its alerts go to the fallback, or
nowhere), a fallback that cannot deliver, nothing watched or nobody told, filters
that can never match, a rotation nobody pages or that has not started.

Which channel can deliver is the channels' to say (`Reach`, answered by each channel's
kind, as `notifier.channels.build.build_channels` builds them): with no vendor
credentials at all the console stands in for every channel (a fresh install),
otherwise a route to an unconfigured vendor fails permanently.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from notifier.config.carries import filter_limits, regions_unfiltered
from notifier.config.catalog import Catalog
from notifier.config.references import Loc, Problem, rotation_routes
from notifier.config.schema import Config
from notifier.config.schema.subscribers import Filters, Subscriber
from notifier.config.suggest import closest, quote


def config_warnings(
    config: Config,
    catalog: Catalog,
    reach: Reach | None,
    now: datetime,
    seen_components: Mapping[str, Collection[str]] | None = None,
) -> Iterator[Problem]:
    """`reach`: what the channels can deliver with the current settings (None skips the
    warnings about channels that cannot). `seen_components`: per provider, every
    component name its feed has listed in the running service's polls (Redis); a filter
    naming none of them never matches."""
    if not config.providers:
        yield ("providers",), "no providers: nothing is polled"
    if not config.subscribers:
        yield ("subscribers",), "no subscribers: changes are found but nobody is told"
    if reach is not None:
        yield from _credentials(config, reach)
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


class Reach(Protocol):
    """What the channels say about delivering with the current settings and environment.

    `notifier.channels.reach.ChannelReach` answers, each channel for itself (config lies
    below the channels and cannot ask them by name)."""

    def any_vendor(self, subscribers: Sequence[Subscriber]) -> bool:
        """Whether some vendor can be sent to: else the console stands in for all."""
        ...

    def ready(self, subscriber: Subscriber, channel: str) -> bool:
        """Whether `subscriber`'s route named `channel` can deliver."""
        ...

    def needs(self, subscriber: Subscriber, channel: str) -> str:
        """What that route lacks, in words naming the setting or variable."""
        ...


def _credentials(config: Config, reach: Reach) -> Iterator[Problem]:
    if config.subscribers and not reach.any_vendor(config.subscribers):
        yield (
            ("subscribers",),
            "no channel credentials are set: every alert prints to stdout instead",
        )
        return
    for i, sub in enumerate(config.subscribers):
        loc: Loc = ("subscribers", i)
        usable = {ch: reach.ready(sub, ch) for ch in sub.channel_names()}
        fallback = sub.fallback
        for ch, ok in usable.items():
            if ok or ch == fallback:
                continue
            if fallback is not None and usable.get(fallback):
                then = f"its alerts go to the fallback {fallback!r}"
            else:
                then = "its alerts are lost (no fallback that can deliver)"
            yield (*loc, ch), f"{ch} cannot deliver without {reach.needs(sub, ch)}: {then}"
        if fallback is not None and fallback in usable and not usable[fallback]:
            yield (
                (*loc, "fallback"),
                f"fallback {fallback!r} cannot deliver without {reach.needs(sub, fallback)}",
            )


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
    used = {name for s in config.subscribers for _, name in rotation_routes(s)}
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

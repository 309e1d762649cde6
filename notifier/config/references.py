"""Cross-reference rules: the ones that need the whole file or the catalog (does the
rotation exist? is that provider watched? is that feed format known?).

They run over `Parts`: every block of the file that passed its own schema, with the
index it has in the file. A file with schema errors still gets its references
checked, block by block, in the same pass; the names a reference may point at
(provider ids, rotation names) are read from the raw file, so a block with a schema
error of its own still counts as existing and nothing is reported twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from notifier.config.catalog import Catalog
from notifier.config.schema import Config
from notifier.config.schema.fields import CHANNELS
from notifier.config.schema.providers import (
    FEED_FORMATS,
    DependencySpec,
    ProviderConfig,
    ServiceConfig,
)
from notifier.config.schema.subscribers import Subscriber
from notifier.config.suggest import closest, hint, quote

Loc = tuple[int | str, ...]
Problem = tuple[Loc, str]
M = TypeVar("M", bound=BaseModel)


@dataclass
class Parts:
    """The valid blocks of a file (with their place in it) and the names it defines."""

    providers: list[tuple[int, ProviderConfig]] = field(default_factory=list)
    services: list[tuple[str, ServiceConfig]] = field(default_factory=list)
    subscribers: list[tuple[int, Subscriber]] = field(default_factory=list)
    provider_ids: set[str] = field(default_factory=set)  # under providers:, valid or not
    service_names: set[str] = field(default_factory=set)
    rotation_names: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, config: Config) -> Parts:
        return cls(
            providers=list(enumerate(config.providers)),
            services=list(config.services.items()),
            subscribers=list(enumerate(config.subscribers)),
            provider_ids={p.id for p in config.providers},
            service_names=set(config.services),
            rotation_names=set(config.oncall.rotations),
        )

    @classmethod
    def salvage(cls, data: dict[str, Any]) -> Parts:
        """The blocks of a file that failed validation as a whole that pass on their own."""
        providers = _list(data.get("providers"))
        services = _dict(data.get("services"))
        oncall = _dict(data.get("oncall"))
        return cls(
            providers=_valid(ProviderConfig, enumerate(providers)),
            services=_valid(ServiceConfig, services.items()),
            subscribers=_valid(Subscriber, enumerate(_list(data.get("subscribers")))),
            provider_ids={str(p["id"]) for p in providers if isinstance(p, dict) and "id" in p},
            service_names={str(k) for k in services},
            rotation_names={str(k) for k in _dict(oncall.get("rotations"))},
        )


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: object) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _valid(model: type[M], items: Any) -> list[tuple[Any, M]]:
    """Each item that validates, else validates once its faulty keys are left out (so a
    bad time zone does not hide a misspelt rotation); keys other rules read stay."""
    out: list[tuple[Any, M]] = []
    keep = _ESSENTIAL.get(model, frozenset())
    for key, raw in items:
        try:
            out.append((key, model.model_validate(raw)))
            continue
        except ValidationError as exc:
            faulty = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        if not isinstance(raw, dict) or not faulty or faulty & keep or not faulty <= set(raw):
            continue  # its own schema errors are reported; nothing sound is left to check
        try:
            rest = {k: v for k, v in raw.items() if k not in faulty}
            out.append((key, model.model_validate(rest)))
        except ValidationError:
            pass
    return out


# Keys a reference rule reads to decide (a channel for `fallback`, a feed for a custom
# provider): leaving one out would make the rule report a problem that is not there.
_ESSENTIAL: dict[type[BaseModel], frozenset[str]] = {
    Subscriber: frozenset({"name", *CHANNELS}),
    ProviderConfig: frozenset({"id", "name", "feed", "page"}),
}


def rotation_routes(sub: Subscriber) -> Iterator[tuple[str, str]]:
    """(channel, rotation name) for each of `sub`'s routes that pages an on-call rotation."""
    for channel in sub.channel_names():
        name = getattr(getattr(sub, channel), "rotation", None)
        if isinstance(name, str):
            yield channel, name


def check_references(parts: Parts, catalog: Catalog) -> Iterator[Problem]:
    """Rules that need the whole file or the catalog, as (location, message)."""
    yield from _check_providers(parts, catalog)
    known = set(catalog.providers) | parts.provider_ids
    for i, p in parts.providers:
        yield from _check_deps(("providers", i, "depends_on"), p.depends_on, known, parts)
    for name, svc in parts.services:
        yield from _check_deps(("services", name, "depends_on"), svc.depends_on, known, parts)
    names: set[str] = set()
    for i, sub in parts.subscribers:
        if sub.name in names:
            yield ("subscribers", i, "name"), f"duplicate subscriber name {quote(sub.name)}"
        names.add(sub.name)
        yield from _check_subscriber(("subscribers", i), sub, parts)


def _check_providers(parts: Parts, catalog: Catalog) -> Iterator[Problem]:
    seen: set[str] = set()
    for i, p in parts.providers:
        loc: Loc = ("providers", i)
        if p.id in seen:
            yield (*loc, "id"), f"provider {p.id!r} is listed twice"
        seen.add(p.id)
        entry = catalog.get(p.id)
        has_feed = p.feed is not None and p.feed.url is not None and p.feed.format is not None
        # A status page's address is enough: the feed is discovered from it.
        has_feed = has_feed or p.page is not None
        if entry is None:
            if p.name is None or not has_feed:
                yield loc, _not_in_catalog(p.id, catalog)
        elif entry.feed is None and not entry.discover and not has_feed:
            yield (*loc, "id"), _unpollable(p.id, entry.note)
        if p.feed is not None and p.feed.format is not None:
            yield from _check_format((*loc, "feed", "format"), p.feed.format)


def _not_in_catalog(pid: str, catalog: Catalog) -> str:
    match = closest(pid, catalog.providers)
    if match is not None:  # a near miss is far likelier than a custom provider
        return f"{pid!r} is not in the catalog; did you mean {match!r}?"
    return f"{pid!r} is not in the catalog: give `name` and `page:` or `feed: {{url, format}}`"


def _unpollable(pid: str, note: str) -> str:
    # The catalog's note says why and what to do instead; its start fits on the line and
    # `notifier providers` shows the whole of it.
    note = " ".join(note.split())
    if len(note) > 50:
        note = note[:49].rstrip() + "…"
    why = f" ({note})" if note else ""
    return f"{pid!r} has no public feed{why}: give your own `feed:` or remove it"


def _check_format(loc: Loc, name: str) -> Iterator[Problem]:
    if name not in FEED_FORMATS:
        yield loc, f"unknown feed format {quote(name)}{hint(name, FEED_FORMATS)}"


def _check_deps(
    loc: Loc, deps: list[DependencySpec], known: set[str], parts: Parts
) -> Iterator[Problem]:
    for j, dep in enumerate(deps):
        if dep.provider in known:
            continue
        if dep.provider in parts.service_names:
            msg = f"{dep.provider!r} is one of your services: `depends_on` names providers"
        elif (match := closest(dep.provider, known)) is not None:
            msg = f"unknown provider {quote(dep.provider)}; did you mean {match!r}?"
        else:
            msg = (
                f"unknown provider {quote(dep.provider)} (not in the catalog nor under providers:)"
            )
        yield (*loc, j), msg


def _check_subscriber(loc: Loc, sub: Subscriber, parts: Parts) -> Iterator[Problem]:
    rotations = parts.rotation_names
    for channel, name in rotation_routes(sub):
        if name in rotations:
            continue
        if rotations:
            msg = f"unknown rotation {quote(name)}{hint(name, rotations, known='have')}"
        else:
            msg = f"unknown rotation {quote(name)} (have: none defined under oncall.rotations)"
        yield (*loc, channel, "rotation"), msg
    channels = sub.channel_names()
    if sub.fallback is not None and sub.fallback not in channels:
        yield (
            (*loc, "fallback"),
            f"fallback {sub.fallback!r} is not one of this subscriber's channels"
            f" ({', '.join(channels)})",
        )
    filter_sets = [((*loc, "filters"), sub.filters.providers)]
    for ch, f in sub.channels_filters.items():
        filter_sets.append(((*loc, "channels_filters", ch), f.providers))
    for floc, ids in filter_sets:
        for j, pid in enumerate(ids or ()):
            if pid not in parts.provider_ids:
                match = closest(pid, parts.provider_ids)
                fix = f"; did you mean {match!r}?" if match else " (add it under providers:)"
                yield (*floc, "providers", j), f"provider {quote(pid)} is not watched{fix}"
    for ch in sub.channels_filters:
        if ch not in channels:
            yield (*loc, "channels_filters", ch), f"this subscriber has no {ch} channel"


__all__ = ["Parts", "Problem", "check_references", "rotation_routes"]

"""Resolution: each provider of the file merged with the catalog into what the poller
watches (`ResolvedProvider`), and the dependency graph of every known provider (the
catalog's edges plus the file's)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import SecretStr

from notifier.config.catalog import Catalog, CatalogDependency, CatalogEntry
from notifier.config.schema.fields import env_secret
from notifier.config.schema.providers import (
    ASSUMED_BASIS,
    Dependency,
    ProbeSpec,
    ProviderConfig,
)


@dataclass(frozen=True, slots=True)
class ResolvedProvider:
    """A watched provider with the catalog and the file merged. `components` is the
    file's component filter (empty: all)."""

    id: str
    name: str
    url: str
    format: str
    poll_interval: int
    depends_on: tuple[Dependency, ...]
    components: tuple[str, ...]
    active_poll_interval: int = 15
    webhook_token: SecretStr | None = None  # resolved from the file or its env var
    probes: tuple[ProbeSpec, ...] = ()
    # The status page the feed is discovered from; with `url` empty, the poller
    # discovers (or recalls) the feed before its first fetch.
    page: str = ""

    @property
    def discovers(self) -> bool:
        return bool(self.page) and not self.url


DEFAULT_POLL_INTERVAL = 60
DEFAULT_ACTIVE_POLL_INTERVAL = 15


def catalog_edge(d: CatalogDependency) -> Dependency:
    if d.confidence == "assumed":
        return Dependency(
            d.provider, tuple(d.regions), "catalog: assumed, no public statement", ASSUMED_BASIS
        )
    basis = d.label or "publicly stated"
    return Dependency(d.provider, tuple(d.regions), f"catalog: {d.source}", basis)


def dependency_graph(
    catalog: Catalog, providers: Iterable[ProviderConfig]
) -> dict[str, tuple[Dependency, ...]]:
    """Every known provider's direct upstreams: all catalog edges plus the file's."""
    graph: dict[str, tuple[Dependency, ...]] = {}
    for pid, entry in catalog.providers.items():
        graph[pid] = tuple(catalog_edge(d) for d in entry.depends_on)
    for p in providers:
        extra = tuple(d.edge() for d in p.depends_on)
        graph[p.id] = graph.get(p.id, ()) + extra
    return graph


def resolve(
    p: ProviderConfig, entry: CatalogEntry | None, name: str, depends_on: tuple[Dependency, ...]
) -> ResolvedProvider:
    """`p` merged with its catalog `entry` (None: not in the catalog): the feed the file
    names wins, then a status page it names (discovered at the first poll), then the
    catalog's feed, then the catalog's page when the catalog says to discover."""
    cat_feed = entry.feed if entry is not None else None
    page = p.page or ""
    if p.page is not None:
        cat_feed = None  # the file names a page: what is found there wins over the catalog
    url = (p.feed.url if p.feed else None) or (cat_feed.url if cat_feed else None)
    fmt = (p.feed.format if p.feed else None) or (cat_feed.format if cat_feed else None)
    if url is None and not page and entry is not None and entry.discover:
        page = entry.status_page
    if url is None and page:
        url, fmt = "", fmt or "auto"  # discovered at the first poll
    if url is None or fmt is None:  # load_config rejects this; guard for direct use
        raise ValueError(f"provider {p.id!r} has no feed")
    interval = p.poll_interval or DEFAULT_POLL_INTERVAL
    return ResolvedProvider(
        id=p.id,
        name=name,
        url=url,
        format=fmt,
        poll_interval=interval,
        depends_on=depends_on,
        components=tuple(p.components),
        active_poll_interval=min(interval, p.active_poll_interval or DEFAULT_ACTIVE_POLL_INTERVAL),
        webhook_token=p.webhook_token or env_secret(p.webhook_token_env),
        probes=tuple(p.probes),
        page=page,
    )


__all__ = [
    "DEFAULT_ACTIVE_POLL_INTERVAL",
    "DEFAULT_POLL_INTERVAL",
    "ResolvedProvider",
    "catalog_edge",
    "dependency_graph",
    "resolve",
]

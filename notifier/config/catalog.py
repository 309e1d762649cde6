"""The built-in provider catalog: package data in `providers.yaml`.

Each entry names a provider's public status feed (or says plainly that none
exists), the components worth filtering on, and its known upstream
dependencies with where each one is publicly stated.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator


class CatalogFeed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    url: str = Field(description="Public status feed URL.")
    format: str = Field(description="Parser format name, see notifier.feeds.registry.")


class CatalogDependency(BaseModel):
    """An upstream edge: stated publicly (`source`) or assumed (`confidence: assumed`).

    Exactly one of the two: an edge nobody stated publicly says so, and the
    annotations built on it say "assumed dependency".
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    provider: str = Field(description="Catalog id of the upstream provider.")
    regions: tuple[str, ...] = Field((), description="Upstream regions this provider relies on.")
    source: str = Field(
        "", description="Where the dependency is publicly stated (URL, then what it says)."
    )
    label: str = Field("", description="A few words for alert text, e.g. 'public partnership'.")
    confidence: Literal["stated", "assumed"] = Field(
        "stated", description="`assumed`: no public statement; say so wherever it is used."
    )

    @model_validator(mode="after")
    def _stated_or_assumed(self) -> CatalogDependency:
        if self.confidence == "stated" and not self.source:
            raise ValueError(f"edge to {self.provider}: give `source:` or `confidence: assumed`")
        if self.confidence == "assumed" and self.source:
            raise ValueError(f"edge to {self.provider}: an assumed edge has no `source:`")
        return self


class CatalogEntry(BaseModel):
    """One provider. A supported entry has a `feed`, or `discover: true` and a `page`
    from which the feed is found at the first poll. `source` says where the feed
    address came from (vendor docs, an aggregator list, or a platform convention)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    name: str
    homepage: str
    support: Literal["supported", "unsupported"] = "supported"
    feed: CatalogFeed | None = Field(None, description="None when the provider has no public feed.")
    page: str = Field("", description="The status page a person visits (default: homepage).")
    platform: str = Field("", description="Hosting platform when known: statuspage, incident.io, …")
    discover: bool = Field(False, description="No feed URL: find it from `page` at the first poll.")
    source: str = Field(
        "", description="Where the feed address came from (the catalog gives one always)."
    )
    aliases: tuple[str, ...] = Field((), description="Other names search finds the entry by.")
    alt_feeds: tuple[CatalogFeed, ...] = Field(
        (), description="Other public feeds of the same page."
    )
    components: tuple[str, ...] = ()
    depends_on: tuple[CatalogDependency, ...] = ()
    note: str = Field("", description="What is not possible and what to do instead.")

    @model_validator(mode="after")
    def _feed_or_discover(self) -> CatalogEntry:
        if self.support == "supported" and self.feed is None and not self.discover:
            raise ValueError(f"{self.id}: a supported entry needs `feed:` or `discover: true`")
        if self.discover and not self.status_page:
            raise ValueError(f"{self.id}: `discover: true` needs a `page:`")
        return self

    @property
    def status_page(self) -> str:
        """The address a person visits: `page`, else `homepage`."""
        return self.page or self.homepage

    def names(self) -> tuple[str, ...]:
        """Every name search matches: id, name and aliases."""
        return (self.id, self.name, *self.aliases)


class Catalog(BaseModel):
    model_config = ConfigDict(frozen=True)
    providers: dict[str, CatalogEntry]

    def get(self, provider_id: str) -> CatalogEntry | None:
        return self.providers.get(provider_id)

    def __contains__(self, provider_id: object) -> bool:
        return provider_id in self.providers


@cache
def load_catalog() -> Catalog:
    text = resources.files(__package__).joinpath("providers.yaml").read_text("utf-8")
    # libyaml's loader when PyYAML has it: the pure-Python one took 180 ms of every
    # command's and process's start for this file, libyaml's 25 ms.
    raw = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    entries = [CatalogEntry.model_validate(e) for e in raw.get("providers", [])]
    return Catalog(providers={e.id: e for e in entries})

"""What each feed format can carry: impact, components, regions and updates, in one table.

A route's filter can only match what the provider's feed says. `FORMAT_CARRIES`
declares it per format (a test holds it to `notifier.feeds.registry`, so a new format
must be declared here), and `filter_limits` turns it into the sentences `config
check` warns with and the console's dry run shows:

    github's feed (statuspage-atom) carries no impact: min_impact: minor will never
    alert on it. Use the JSON API (format: statuspage-json), or min_impact: none

Impact is `stated` (the feed names it: Statuspage's JSON `impact`, Google's
`severity`), `derived` (from a status the feed does carry, the way the page itself
colours it: a component in partial outage is a major incident), `fixed` (every
incident reads the same: Azure's RSS is major, Google's Atom minor) or `none`
(Statuspage's Atom and RSS, any generic feed: every incident is `none`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from notifier.models import Impact

if TYPE_CHECKING:
    from notifier.config.catalog import Catalog, CatalogFeed
    from notifier.config.schema.resolution import ResolvedProvider
    from notifier.config.schema.subscribers import Filters

ImpactSource = Literal["stated", "derived", "fixed", "none"]

_ALL = (Impact.NONE, Impact.MINOR, Impact.MAJOR, Impact.CRITICAL)


@dataclass(frozen=True, slots=True)
class Carries:
    """What one format's incidents can hold."""

    impact: ImpactSource
    impacts: tuple[Impact, ...]  # every impact an incident (not maintenance) can read as
    components: bool
    regions: bool
    updates: Literal["all", "latest"]  # the whole history, or only the latest state
    impact_from: str = ""  # where a derived impact comes from, in words

    @property
    def highest(self) -> Impact:
        return max(self.impacts, key=lambda i: i.rank)


def _c(
    impact: ImpactSource,
    impacts: tuple[Impact, ...],
    components: bool = True,
    regions: bool = False,
    updates: Literal["all", "latest"] = "all",
    impact_from: str = "",
) -> Carries:
    return Carries(impact, impacts, components, regions, updates, impact_from)


_NONE = (Impact.NONE,)
_DEGRADED = (Impact.NONE, Impact.MINOR, Impact.MAJOR)
_MS = "the service's status word (degraded: minor; outage, interruption: major)"

FORMAT_CARRIES: dict[str, Carries] = {
    "statuspage-json": _c("stated", _ALL),
    "statuspage-atom": _c("none", _NONE),
    "statuspage-rss": _c("none", _NONE),
    "incidentio-rss": _c("derived", _ALL, updates="latest",
                         impact_from="the affected components' status (degraded performance:"
                         " minor, partial outage: major, full outage: critical)"),
    "aws-json": _c("derived", _ALL[1:], regions=True,
                   impact_from="the event's status (1: minor, 2: major, 3: critical)"),
    "aws-rss": _c("derived", _ALL[1:], regions=True,
                  impact_from="the title's prefix (informational: minor, degradation: major,"
                  " disruption: critical)"),
    "gcp-json": _c("stated", _ALL[1:], regions=True),
    "gcp-atom": _c("fixed", (Impact.MINOR,), regions=True, updates="latest"),
    "azure-rss": _c("fixed", (Impact.MAJOR,), regions=True, updates="latest"),
    "microsoft-rss": _c("derived", _DEGRADED, updates="latest", impact_from=_MS),
    "microsoft-posts-json": _c("derived", _DEGRADED, regions=True, updates="latest",
                               impact_from=_MS),
    "microsoft-portal-json": _c("derived", _DEGRADED[:2], updates="latest",
                                impact_from="the service's up/down flag (down: minor)"),
    "xbox-xml": _c("derived", _DEGRADED, updates="latest", impact_from=_MS),
    "xbox-json": _c("derived", _DEGRADED, updates="latest", impact_from=_MS),
    "meta-orgs-json": _c("derived", _DEGRADED, updates="latest",
                         impact_from="the service's status words (outage, down: major)"),
    "meta-history-json": _c("derived", _DEGRADED[1:],
                            impact_from="the outage's status (outage: major)"),
    "slack-json": _c("derived", _DEGRADED,
                     impact_from="the issue's type (notice: none, incident: minor,"
                     " outage: major)"),
    "rss": _c("none", _NONE, components=False),
    "atom": _c("none", _NONE, components=False),
}  # fmt: skip


def carries(fmt: str) -> Carries | None:
    """What `fmt` carries; None for `auto` (not known until the document is seen)."""
    return FORMAT_CARRIES.get(fmt)


def impact_words(provider: str, c: Carries) -> str:
    """ "github's feed carries no impact", or "azure's feed reads every incident as major"."""
    if c.impact == "none":
        return f"{provider}'s feed carries no impact"
    if len(c.impacts) == 1:
        return f"{provider}'s feed reads every incident as {c.impacts[0].value}"
    return f"{provider}'s feed reads no incident above {c.highest.value}"


def better_feed(provider: ResolvedProvider, catalog: Catalog, least: Impact) -> CatalogFeed | None:
    """Another catalog feed of the same page whose incidents can reach `least`."""
    entry = catalog.get(provider.id)
    feeds = [f for f in (entry.feed, *entry.alt_feeds) if f is not None] if entry else []
    for feed in feeds:
        c = carries(feed.format)
        if feed.format != provider.format and c is not None and c.highest.rank >= least.rank:
            return feed
    return None


def feed_name(feed: CatalogFeed) -> str:
    return "the JSON API" if feed.format == "statuspage-json" else f"format {feed.format}"


def filter_limits(
    provider: ResolvedProvider, f: Filters, catalog: Catalog
) -> Iterator[tuple[str, str]]:
    """(filter key, sentence) for each part of `f` the provider's feed cannot satisfy:
    a `min_impact` above anything it can read (nothing ever alerts). One short line
    each: a `config check` line holds the file, the line and the key too."""
    c = carries(provider.format)
    if c is None:
        return
    if f.min_impact is not None and Impact(f.min_impact).rank > c.highest.rank:
        least = Impact(f.min_impact)
        better = better_feed(provider, catalog, least)
        fix = f"Use {feed_name(better)}, or" if better else "Use"
        yield (
            "min_impact",
            (
                f"{impact_words(provider.id, c)}: min_impact: {least.value} will never alert."
                f" {fix} min_impact: {c.highest.value}"
            ),
        )


def regions_unfiltered(providers: list[ResolvedProvider], f: Filters) -> str:
    """A `regions` list where no heard provider's feed names regions: incidents that
    name none pass, so it lets everything through. '' when it can filter."""
    if not f.regions or not providers:
        return ""
    known = [carries(p.format) for p in providers]
    if any(c is None or c.regions for c in known):
        return ""
    ids = ", ".join(p.id for p in providers[:3]) + (", …" if len(providers) > 3 else "")
    return f"no heard feed names regions ({ids}): regions: [{', '.join(f.regions)}] filters nothing"


def impact_possible(fmt: str, impact: Impact) -> bool:
    """Can an incident read from `fmt` have `impact`? (maintenance always can)"""
    c = carries(fmt)
    return c is None or impact is Impact.MAINTENANCE or impact in c.impacts

"""The built-in provider catalog and `notifier providers`."""

from __future__ import annotations

import json

import pytest

from notifier.cli import main
from notifier.cli.providers import render_table
from notifier.config.catalog import load_catalog
from notifier.feeds import registry

CATALOG = load_catalog()
SEEDS = ("openai", "azure", "microsoft365", "xbox", "gcp", "aws", "meta", "cloudflare")
COMMON = (
    *("github", "slack", "atlassian", "twilio", "stripe", "anthropic", "discord", "zoom"),
    *("datadog", "pagerduty", "fastly", "digitalocean", "heroku", "vercel", "netlify"),
    *("shopify", "dropbox", "okta", "zendesk", "mongodb", "snowflake", "npm", "docker"),
    *("circleci", "sendgrid", "linear", "notion", "hashicorp", "cloudinary", "auth0"),
)


def test_it_has_the_seed_providers_and_the_common_ones() -> None:
    assert len(CATALOG.providers) >= 38
    missing = [p for p in (*SEEDS, *COMMON) if p not in CATALOG]
    assert not missing


def test_every_dependency_points_at_a_catalog_provider_and_says_where_it_is_stated() -> None:
    for entry in CATALOG.providers.values():
        for dep in entry.depends_on:
            assert dep.provider in CATALOG, f"{entry.id} -> {dep.provider}"
            assert dep.provider != entry.id
            if dep.confidence == "assumed":
                assert not dep.source, f"{entry.id}: an assumed edge cites nothing"
            else:
                assert dep.source.startswith("https://"), f"{entry.id}: source must be a public URL"


def test_an_edge_without_a_source_must_say_it_is_assumed() -> None:
    from pydantic import ValidationError

    from notifier.config.catalog import CatalogDependency

    with pytest.raises(ValidationError, match="give `source:` or `confidence: assumed`"):
        CatalogDependency(provider="azure")
    assert CatalogDependency(provider="azure", confidence="assumed").source == ""


def test_the_seed_providers_are_supported_with_their_real_public_feeds() -> None:
    expected = {
        "microsoft365": ("https://status.cloud.microsoft/api/posts/mac", "microsoft-posts-json"),
        "xbox": ("https://xnotify.xboxlive.com/servicestatusv6/US/en-US", "xbox-xml"),
        "meta": ("https://metastatus.com/data/orgs.json", "meta-orgs-json"),
    }
    for pid, (url, fmt) in expected.items():
        entry = CATALOG.get(pid)
        assert entry is not None and entry.support == "supported" and entry.feed is not None
        assert (entry.feed.url, entry.feed.format) == (url, fmt)
    m365 = CATALOG.get("microsoft365")
    assert m365 is not None
    alt = {(f.url, f.format) for f in m365.alt_feeds}
    assert ("https://status.cloud.microsoft/api/feed/mac", "microsoft-rss") in alt
    azure = CATALOG.get("azure")
    assert azure is not None
    assert "microsoft-posts-json" in {f.format for f in azure.alt_feeds}
    assert "Graph" in m365.note  # tenant health still needs Graph, and it says so


def test_every_supported_entry_polls_a_registered_format() -> None:
    known = {*registry.parsers(), "auto"}
    for entry in CATALOG.providers.values():
        feeds = [entry.feed, *entry.alt_feeds] if entry.support == "supported" else []
        if entry.discover and entry.feed is None:
            feeds = list(entry.alt_feeds)  # found from its page at the first poll
        for feed in feeds:
            assert feed is not None, f"{entry.id}: supported without a feed or `discover: true`"
            assert feed.format in known, f"{entry.id}: unknown format {feed.format}"
            assert feed.url.startswith("https://"), f"{entry.id}: {feed.url}"


@pytest.mark.parametrize("provider", ["stripe"])
def test_unsupported_entries_have_a_note_and_no_feed(provider: str) -> None:
    entry = CATALOG.get(provider)
    assert entry is not None and entry.support == "unsupported"


def test_no_unsupported_entry_pretends_to_have_a_feed() -> None:
    for entry in CATALOG.providers.values():
        if entry.support == "unsupported":
            assert entry.feed is None and not entry.alt_feeds, entry.id
            assert len(entry.note) > 40, f"{entry.id}: say what to do instead"


def test_the_dependency_graph_has_no_cycles() -> None:
    graph = {e.id: [d.provider for d in e.depends_on] for e in CATALOG.providers.values()}
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, f"cycle: {' -> '.join((*path, node))}"
        if node in done:
            return
        for upstream in graph[node]:
            visit(upstream, (*path, node))
        done.add(node)

    for node in graph:
        visit(node, ())


def test_the_seed_dependencies_are_there() -> None:
    # openai and github both state Azure as their cloud (see each `source`); Microsoft's
    # own Xbox and Microsoft 365 run on it too, which no public page states: assumed.
    for downstream in ("openai", "github", "xbox", "microsoft365"):
        entry = CATALOG.get(downstream)
        assert entry is not None
        assert "azure" in [d.provider for d in entry.depends_on]
    openai = CATALOG.get("openai")
    assert openai is not None and openai.depends_on[0].label == "public partnership"
    for assumed in ("xbox", "microsoft365"):
        entry = CATALOG.get(assumed)
        assert entry is not None and entry.depends_on[0].confidence == "assumed"


def test_providers_prints_an_aligned_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["providers"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "FORMAT", "SUPPORT", "UPSTREAM", "FEED"]
    assert len(lines) == len(CATALOG.providers) + 1
    feed_column = lines[0].index("FEED")
    openai = next(line for line in lines if line.startswith("openai "))
    assert openai[feed_column:] == "https://status.openai.com/api/v2/summary.json"
    assert "azure" in openai.split()
    xbox = next(line for line in lines if line.startswith("xbox "))
    assert "supported" in xbox.split() and "xbox-xml" in xbox.split()
    assert xbox[feed_column:] == "https://xnotify.xboxlive.com/servicestatusv6/US/en-US"
    stripe = next(line for line in lines if line.startswith("stripe "))
    assert "unsupported" in stripe.split()


def test_providers_json_lists_every_entry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["providers", "--json"]) == 0
    data = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [p["id"] for p in data] == sorted(CATALOG.providers)
    aws = next(p for p in data if p["id"] == "aws")
    assert aws["feed"] == {
        "url": "https://health.aws.amazon.com/public/currentevents",
        "format": "aws-json",
    }


def test_every_format_a_subscription_file_may_name_has_a_parser() -> None:
    from notifier.config.schema.providers import FEED_FORMATS

    assert {*registry.parsers(), "auto"} == FEED_FORMATS


def test_providers_rows_fit_the_terminal_width() -> None:
    # Unsupported providers' notes made rows of up to 521 characters.
    assert max(len(line) for line in render_table(CATALOG).splitlines()) > 200
    # 160: the id and name columns are as wide as the catalog's longest (300+ entries).
    lines = render_table(CATALOG, width=160).splitlines()
    assert max(len(line) for line in lines) == 160
    stripe = next(line for line in lines if line.startswith("stripe "))
    assert stripe.endswith("…")
    openai = next(line for line in lines if line.startswith("openai "))
    assert openai.endswith("https://status.openai.com/api/v2/summary.json")  # fits: left whole

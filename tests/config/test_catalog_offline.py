"""Every catalog entry checked offline: addresses, formats, ids, duplicates, sources,
and the `search` action."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from notifier.cli import main
from notifier.cli.providers.search import find
from notifier.config.catalog import CatalogEntry, load_catalog
from notifier.config.schema.providers import FEED_FORMATS

CATALOG = load_catalog()
ENTRIES = list(CATALOG.providers.values())
# The vendors a realistic team listed in issue 21; each must be in the catalog.
TEAM = ("stripe", "twilio", "sendgrid", "auth0", "okta", "datadog", "pagerduty", "circleci",
        "npm", "docker", "fastly", "akamai", "vercel", "netlify", "supabase", "mongodb",
        "snowflake", "anthropic", "postmark", "segment", "launchdarkly", "algolia", "sentry",
        "mailchimp", "zendesk", "intercom", "hubspot", "salesforce", "zoom", "notion")  # fmt: skip


def _valid_url(url: str) -> bool:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return (
        parts.scheme == "https"
        and "." in host
        and re.fullmatch(r"[a-z0-9.-]+", host) is not None
        and not any(c.isspace() for c in url)
    )


def test_the_catalog_has_at_least_300_supported_providers_each_with_a_source() -> None:
    supported = [e for e in ENTRIES if e.support == "supported"]
    assert len(supported) >= 300
    assert all(e.source.strip() for e in ENTRIES)


def test_every_address_in_the_catalog_is_a_valid_https_url() -> None:
    for e in ENTRIES:
        urls = [e.homepage, e.status_page, *(f.url for f in (e.feed, *e.alt_feeds) if f)]
        bad = [u for u in urls if not _valid_url(u)]
        assert not bad, f"{e.id}: {bad}"


def test_every_supported_entry_has_a_known_format_or_discovers_its_feed() -> None:
    for e in ENTRIES:
        if e.support != "supported":
            continue
        assert e.feed is not None or e.discover, e.id
        for f in (e.feed, *e.alt_feeds):
            assert f is None or f.format in FEED_FORMATS, f"{e.id}: {f}"


def test_ids_are_unique_slugs_and_no_feed_url_is_listed_twice() -> None:
    from importlib import resources

    import yaml

    raw = yaml.safe_load(resources.files("notifier.config").joinpath("providers.yaml").read_text())
    ids = [p["id"] for p in raw["providers"]]
    assert len(ids) == len(set(ids)), "duplicate ids"
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9_-]*", i) for i in ids)
    feeds: dict[str, str] = {}
    for e in ENTRIES:
        for f in (e.feed, *e.alt_feeds):
            if f is None:
                continue
            assert f.url not in feeds, f"{f.url} in {feeds.get(f.url)} and {e.id}"
            feeds[f.url] = e.id


def test_no_two_entries_watch_the_same_status_page() -> None:
    pages: dict[str, str] = {}
    for e in ENTRIES:
        if e.support != "supported":
            continue
        key = e.status_page.lower().rstrip("/").replace("://www.", "://")
        assert key not in pages, f"{e.id} and {pages.get(key)}: {key}"
        pages[key] = e.id


def test_an_inferred_feed_says_so_in_its_source() -> None:
    """A feed path nobody documented says `platform convention` (or is discovered)."""
    for e in ENTRIES:
        if e.feed is None:
            continue
        url = e.feed.url
        conventional = url.endswith(("/history.atom", "/api/v2/summary.json")) or "/pages/" in url
        if conventional and e.source.startswith("aggregator"):
            assert "platform convention" in e.source, e.id


def test_components_are_spelled_as_their_feed_spells_them_where_known() -> None:
    # Where the catalog lists components, they are distinct names with no stray spaces.
    for e in ENTRIES:
        assert len(set(e.components)) == len(e.components), e.id
        assert all(c == " ".join(c.split()) and c for c in e.components), e.id


def test_the_team_in_issue_21_finds_every_vendor_it_depends_on() -> None:
    missing = [v for v in TEAM if not find(CATALOG, v)]
    assert not missing


@pytest.mark.parametrize(
    ("word", "expected"),
    [("gh", "github"), ("o365", "microsoft365"), ("Claude", "anthropic"), ("GitHub", "github")],
)
def test_search_finds_an_entry_by_id_name_or_alias(word: str, expected: str) -> None:
    assert [e.id for e in find(CATALOG, word)] == [expected]


def test_search_prints_the_matches_and_says_when_nothing_matches(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["providers", "search", "gh"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert len(rows) == 2 and rows[1].startswith("github ")
    assert main(["providers", "search", "zzqqxx-no-vendor"]) == 1
    assert "notifier providers discover" in capsys.readouterr().err


def test_an_entry_that_discovers_needs_a_page() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="needs `feed:` or `discover: true`"):
        CatalogEntry(id="x", name="X", homepage="https://status.x.example", source="test")
    entry = CatalogEntry(id="x", name="X", homepage="https://status.x.example", source="t",
                         discover=True)  # fmt: skip
    assert entry.status_page == "https://status.x.example"


def test_config_check_warns_of_a_component_filter_the_feed_has_never_listed() -> None:
    from datetime import UTC, datetime

    from notifier.config.load import check_text

    text = ("providers:\n  - id: github\n    components: [Actions, Copilot Chat]\n"
            "subscribers:\n  - name: ops\n    email: {to: [ops@example.com]}\n")  # fmt: skip
    seen = {"github": {"Actions", "Copilot", "Git Operations"}}
    report = check_text(text, "s.yaml", now=datetime(2025, 1, 1, tzinfo=UTC), seen_components=seen)
    warned = [w for w in report.warnings if "components" in w]
    assert len(warned) == 1
    assert "'Copilot Chat' matches nothing github's feed has listed" in warned[0]
    assert "did you mean 'Copilot'?" in warned[0]
    quiet = check_text(text.replace("Copilot Chat", "copilot"), "s.yaml", seen_components=seen)
    assert not [w for w in quiet.warnings if "components" in w]

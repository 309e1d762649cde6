"""What a feed can carry, and the filters that therefore can never match (issue 31)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from notifier.config.carries import FORMAT_CARRIES, impact_possible
from notifier.config.catalog import load_catalog
from notifier.config.load import check_config, check_text
from notifier.config.schema.providers import FEED_FORMATS
from notifier.feeds.registry import parsers
from notifier.models import Impact

NOW = datetime(2025, 1, 1, tzinfo=UTC)
EXAMPLE = Path(__file__).parents[2] / "config" / "subscriptions.example.yaml"


def _file(feed: str, filters: str) -> str:
    return (f"providers:\n  - id: github\n{feed}  - id: azure\n"
            "subscribers:\n  - name: ops\n    email: {to: [ops@example.com]}\n"
            f"    filters: {filters}\n")  # fmt: skip


ATOM = '    feed: {url: "https://www.githubstatus.com/history.atom", format: statuspage-atom}\n'


def test_every_feed_format_declares_what_it_carries() -> None:
    assert set(FORMAT_CARRIES) == set(parsers()) == FEED_FORMATS - {"auto"}


def test_a_min_impact_on_a_feed_without_impact_is_a_warning_naming_the_fix() -> None:
    report = check_text(_file(ATOM, "{min_impact: minor}"), "s.yaml", now=NOW)
    warned = [w for w in report.warnings if "never alert" in w]
    assert warned == [
        "s.yaml:8: subscribers[0].filters.min_impact: github's feed carries no impact:"
        " min_impact: minor will never alert. Use the JSON API, or min_impact: none"
    ]


def test_a_fixed_impact_feed_warns_above_what_it_reads() -> None:
    text = _file("", "{min_impact: critical, providers: [azure]}")
    warned = [w for w in check_text(text, "s.yaml", now=NOW).warnings if "never alert" in w]
    assert len(warned) == 1
    assert "azure's feed reads every incident as major: min_impact: critical" in warned[0]
    assert warned[0].endswith("Use min_impact: major")
    assert not [w for w in check_text(_file("", "{min_impact: major}"), "s.yaml",
                                        now=NOW).warnings if "never alert" in w]  # fmt: skip


def test_a_channel_override_is_judged_on_the_keys_it_sets() -> None:
    text = _file(ATOM, "{providers: [github]}") + (
        "    channels_filters:\n      email: {min_impact: major}\n"
    )
    warned = [w for w in check_text(text, "s.yaml", now=NOW).warnings if "never alert" in w]
    assert len(warned) == 1 and "channels_filters.email.min_impact" in warned[0]


def test_a_regions_filter_on_a_feed_without_regions_lets_everything_through() -> None:
    text = _file("", "{regions: [westeurope], providers: [github]}")
    warned = [w for w in check_text(text, "s.yaml", now=NOW).warnings if "regions" in w]
    assert len(warned) == 1
    assert (
        "no heard feed names regions (github): regions: [westeurope] filters nothing" in warned[0]
    )
    # one heard feed names regions (azure's): the filter does something
    both = _file("", "{regions: [westeurope], providers: [github, azure]}")
    assert not [w for w in check_text(both, "s.yaml", now=NOW).warnings if "regions" in w]


def test_the_shipped_example_has_no_filter_that_cannot_match() -> None:
    report = check_config(EXAMPLE, now=NOW)
    assert report.config is not None
    assert not [w for w in report.warnings if "never alert" in w or "names regions" in w]


def test_statuspage_pages_in_the_catalog_read_the_json_api() -> None:
    catalog = load_catalog()
    for pid in ("github", "cloudflare"):
        entry = catalog.get(pid)
        assert entry is not None and entry.feed is not None
        assert entry.feed.format == "statuspage-json"
        assert entry.feed.url.endswith("/api/v2/summary.json")
        assert [f.format for f in entry.alt_feeds] == ["statuspage-atom"]
    atom = [e.id for e in catalog.providers.values()
            if e.feed is not None and e.feed.format == "statuspage-atom"]  # fmt: skip
    assert atom == []


@pytest.mark.parametrize(
    ("fmt", "impact", "possible"),
    [
        ("statuspage-json", Impact.MINOR, True),
        ("statuspage-atom", Impact.MINOR, False),
        ("statuspage-atom", Impact.MAINTENANCE, True),
        ("azure-rss", Impact.CRITICAL, False),
        ("auto", Impact.CRITICAL, True),  # not known until the document is seen
    ],
)
def test_impact_possible_follows_the_table(fmt: str, impact: Impact, possible: bool) -> None:
    assert impact_possible(fmt, impact) is possible

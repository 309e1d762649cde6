"""Azure status RSS: `azure-rss`, an active-only feed."""

from __future__ import annotations

import pytest

from notifier.feeds.errors import EmptyFeedError, HostileDocumentError, ParseError
from notifier.feeds.formats.microsoft.azure import (
    parse_azure_rss,
    public_id,
    regions_in,
    stated_start,
)
from notifier.models import DocumentKind, Impact, Status, iso

# made here, in the shape of azure.status.microsoft/en-us/status/feed/ as captured in public
# code (2018 .NET syndication output with the a10 namespace and "Z" dates; 2026 test fixtures
# with <category> elements and guids)
HEAD = (
    '<?xml version="1.0" encoding="utf-8"?><rss xmlns:a10="http://www.w3.org/2005/Atom" '
    'version="2.0"><channel><title>Azure Status</title>'
    "<link>https://azure.status.microsoft/en-us/status/</link>"
    "<description>Azure Status</description><language>en-US</language>"
    "<lastBuildDate>Thu, 23 Jul 2026 16:30:00 Z</lastBuildDate>"
)
FEED = (
    HEAD + '<item><guid isPermaLink="false">VS0B-9PZ</guid>'
    "<link>https://azure.status.microsoft/en-us/status/history/?trackingId=VS0B-9PZ</link>"
    "<category>Virtual Machines</category><category>East US 2</category>"
    "<title>Virtual Machines - East US 2 - Issues connecting to resources</title>"
    "<description>&lt;p&gt;&lt;strong&gt;Impact Statement:&lt;/strong&gt; Starting at 14:02 UTC "
    "a subset of customers in East US 2 &lt;a href='https://x'&gt;see&lt;/a&gt;.&lt;/p&gt;"
    "</description><pubDate>Thu, 23 Jul 2026 16:29:09 Z</pubDate></item>"
    "<item><title>Azure Front Door - Multiple regions</title>"
    "<description>Summary of impact: Between 08:00 and 09:10 UTC customers saw errors."
    "</description>"
    "<pubDate>Thu, 23 Jul 2026 09:30:00 Z</pubDate></item>"
    "</channel></rss>"
).encode()


DATE = "<pubDate>Thu, 23 Jul 2026 16:29:09 Z</pubDate>"
XXE = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss>&x;</rss>'


def test_each_item_is_one_open_issue_of_an_active_document() -> None:
    doc = parse_azure_rss(FEED, "azure")
    assert doc.kind is DocumentKind.ACTIVE
    vm, _ = doc.incidents
    assert vm.id == "VS0B-9PZ"
    assert vm.status is Status.INVESTIGATING and vm.resolved_at is None
    assert vm.impact is Impact.MAJOR  # Azure states no severity; see the module docstring
    assert vm.components == ("Virtual Machines",)
    assert vm.regions == ("East US 2",)  # not also "East US"
    assert iso(vm.started_at) == "2026-07-23T16:29:09Z"
    assert (
        vm.updates[0].body
        == "Impact Statement: Starting at 14:02 UTC a subset of customers in East US 2 see."
    )
    assert (vm.url or "").startswith("https://azure.status.microsoft/")


def test_an_item_without_a_guid_gets_a_stable_id_and_reads_its_summary_as_mitigated() -> None:
    afd = parse_azure_rss(FEED, "azure").incidents[1]
    assert afd.id == parse_azure_rss(FEED, "azure").incidents[1].id
    assert afd.id.startswith("azure-")
    assert afd.status is Status.RESOLVED  # "Summary of impact:" is the post-mitigation statement
    assert afd.components == ("Azure Front Door",)
    assert afd.regions == ()


def test_an_empty_channel_is_the_healthy_state() -> None:
    doc = parse_azure_rss((HEAD + "</channel></rss>").encode(), "azure")
    assert doc.incidents == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("North Central US and Central US", ("Central US", "North Central US")),  # longest wins
        ("west europe", ("West Europe",)),  # canonical spelling
        ("Westeros", ()),  # not a region
    ],
)
def test_region_names_are_read_from_text(text: str, expected: tuple[str, ...]) -> None:
    assert regions_in(text) == expected


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", EmptyFeedError),
        (b"<!DOCTYPE html><html><body>Service Unavailable</body></html>", ParseError),
        (b"<Error><Code>AccessDenied</Code></Error>", ParseError),  # a storage error document
        ((HEAD + "<item><title>x</title></item></channel></rss>").encode(), ParseError),  # no date
        ((HEAD + f"<item>{DATE}</item></channel></rss>").encode(), ParseError),  # no title
        (XXE, HostileDocumentError),  # an external entity is refused
    ],
)  # fmt: skip
def test_bad_input_ends_in_a_feed_error(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_azure_rss(body, "azure")


# Made here: wording as Azure's status posts state the impact window.
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "Starting at 18:05 UTC on 26 Dec 2024, customers in South Central US ...",
            "2024-12-26T18:05",
        ),
        (
            "Between 23:20 UTC on 25 January 2023 and 09:30 UTC on 26 January 2023, ...",
            "2023-01-25T23:20",
        ),
        ("We are investigating an issue with Virtual Machines.", None),
    ],
)
def test_it_reads_the_start_azure_states_in_its_text(body: str, expected: str | None) -> None:
    found = stated_start(body)
    assert (found.strftime("%Y-%m-%dT%H:%M") if found else None) == expected


def test_it_uses_the_tracking_id_as_the_public_id() -> None:
    assert (
        public_id("https://azure.status.microsoft/en-us/status/#tracking-id-2LGD-9VG", "", "t")
        == "2LGD-9VG"
    )
    assert public_id("", "https://aka.ms/azstatus?trackingId=ab12-cd3", "t") == "AB12-CD3"
    assert public_id("urn:uuid:1234", "", "t") == "urn:uuid:1234"

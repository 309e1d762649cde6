"""Annotations: upstream ranking, downstream, coincident, and the stated-cause table."""

from __future__ import annotations

import pytest

from notifier.annotate.causes import classify_text, stated_cause
from notifier.annotate.correlate import annotate, relative, upstream_candidates
from notifier.models import AnnotationKind, Impact, Incident
from tests.planning_helpers import at, config, event, incident

CFG = config(
    """
    providers:
      - id: openai
        depends_on: [{provider: cloudflare}]
      - id: azure
      - id: github
      - id: cloudflare
      - id: slack
      - id: acme
        name: Acme
        feed: {url: "https://status.acme.example/feed", format: statuspage-json}
        depends_on: [{provider: openai}, {provider: azure, regions: [southcentralus]}]
    services:
      chatbot: {depends_on: [openai]}
      billing: {depends_on: [{provider: azure, regions: [westeurope]}]}
    subscribers: [{name: ops, slack: {channel: "#ops"}}]
    """
)
OPENAI = incident("openai", "o1", "2024-12-26 19:00", title="Elevated errors on ChatGPT")


def _ranked(target: Incident, world: list[Incident], now: str = "2024-12-26 19:05") -> list[str]:
    found = upstream_candidates(target, CFG.dependency_graph(), world, at(now))
    return [c.incident.id for c in found]


@pytest.mark.parametrize(
    ("target", "world", "expected"),
    [
        # the closer in time ranks first
        (
            OPENAI,
            [
                incident("azure", "far", "2024-12-26 15:00"),
                incident("azure", "near", "2024-12-26 18:05"),
            ],
            ["near", "far"],
        ),
        # a direct dependency beats a transitive one at the same distance... and
        # cloudflare is direct too (config edge), so time decides between them
        (
            OPENAI,
            [
                incident("cloudflare", "cf", "2024-12-26 18:55"),
                incident("azure", "az", "2024-12-26 18:05"),
            ],
            ["cf", "az"],
        ),
        # resolved 1 h ago still counts; resolved 3 h ago does not
        (
            OPENAI,
            [
                incident("azure", "old", "2024-12-26 14:00", resolved="2024-12-26 16:00"),
                incident("azure", "recent", "2024-12-26 17:00", resolved="2024-12-26 18:05"),
            ],
            ["recent"],
        ),
        # an upstream that began more than 30 min after us is not our cause
        (OPENAI, [incident("azure", "late", "2024-12-26 19:45")], []),
        # providers we do not depend on are never upstream
        (OPENAI, [incident("slack", "s", "2024-12-26 18:59")], []),
        # acme relies on azure only in South Central US: a West Europe incident is not
        # linked; a South Central US one is, and its region match outweighs openai's
        # closer start
        (
            incident("acme", "a1", "2024-12-26 19:00"),
            [
                incident("azure", "weu", "2024-12-26 18:50", regions=("West Europe",)),
                incident("azure", "scus", "2024-12-26 18:05", regions=("South Central US",)),
                OPENAI,
            ],
            ["scus", "o1"],
        ),
        # region match outweighs a small time difference
        (
            incident("acme", "a1", "2024-12-26 19:00"),
            [
                incident("azure", "noregion", "2024-12-26 18:40"),
                incident("azure", "scus", "2024-12-26 18:30", regions=("South Central US",)),
            ],
            ["scus", "noregion"],
        ),
    ],
)
def test_upstream_candidates_are_ranked(
    target: Incident, world: list[Incident], expected: list[str]
) -> None:
    assert _ranked(target, world) == expected


def test_the_openai_alert_names_azure_as_upstream_with_its_timing() -> None:
    azure = incident(
        "azure",
        "az",
        "2024-12-26 18:05",
        title="Power event in South Central US",
        regions=("South Central US",),
    )
    notes = annotate(event(OPENAI), CFG, [azure, OPENAI], at("2024-12-26 19:05"))
    up = [a for a in notes if a.kind is AnnotationKind.UPSTREAM]
    assert up[0].text == (
        "Possible upstream cause: Microsoft Azure — 'Power event in South Central US', "
        "active since 18:05 UTC, 55 min earlier; OpenAI runs on Microsoft Azure (publicly stated)"
    )
    assert "openai depends on azure (catalog" in up[0].reason
    assert (up[0].provider, up[0].incident_id) == ("azure", "az")


def test_downstream_names_services_and_watched_providers_transitively() -> None:
    azure = incident("azure", "az", "2024-12-26 18:05", regions=("South Central US",))
    notes = annotate(event(azure), CFG, [azure], at("2024-12-26 18:10"))
    texts = [a.text for a in notes if a.kind is AnnotationKind.DOWNSTREAM]
    # billing relies on azure only in West Europe: not affected by South Central US
    assert texts == [
        "Affects your services: chatbot",
        "Watched providers that depend on Microsoft Azure: OpenAI, GitHub, Acme",
    ]
    services = next(a for a in notes if a.text.startswith("Affects"))
    assert "chatbot depends on openai" in services.reason
    assert "openai depends on azure" in services.reason


def test_coincident_lists_unlinked_providers_within_30_minutes() -> None:
    world = [
        OPENAI,
        incident("slack", "s1", "2024-12-26 18:40", title="Messages delayed"),
        incident("slack", "s0", "2024-12-26 17:00"),  # too early
        incident("github", "g1", "2024-12-26 19:20"),  # shares azure with openai
        incident("azure", "az", "2024-12-26 18:50"),  # upstream, not coincident
    ]
    notes = annotate(event(OPENAI), CFG, world, at("2024-12-26 19:30"))
    texts = [a.text for a in notes if a.kind is AnnotationKind.COINCIDENT]
    # equally close (20 min): ordered by provider id
    assert texts == [
        "Coincident, both depend on Microsoft Azure: GitHub — 'Elevated errors', "
        "started 19:20 UTC, 20 min later",
        "Coincident, no known link: Slack — 'Messages delayed', started 18:40 UTC, 20 min earlier",
    ]


def test_annotations_do_not_name_the_incident_itself() -> None:
    notes = annotate(event(OPENAI), CFG, [OPENAI], at("2024-12-26 19:05"))
    assert all(a.incident_id != "o1" or a.kind is AnnotationKind.STATED_CAUSE for a in notes)


@pytest.mark.parametrize(
    ("minutes_before", "text"),
    [
        (55, "55 min earlier"),
        (0, "at the same time"),
        (-20, "20 min later"),
        (125, "2 h 5 min earlier"),
        (120, "2 h earlier"),
    ],
)
def test_relative_times_read_naturally(minutes_before: int, text: str) -> None:
    from datetime import timedelta

    ref = at("2024-12-26 19:00")
    assert relative(ref - timedelta(minutes=minutes_before), ref) == text


# ---- stated causes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # OpenAI, Dec 26 2024 style
        ("The issue was caused by an upstream provider outage.", "upstream"),
        ("We are working with our cloud provider to mitigate.", "upstream"),
        ("A power event in one datacenter affected multiple services.", "power"),
        ("Root cause was a DNS misconfiguration affecting resolution.", "dns"),
        ("Users saw errors due to an expired TLS certificate.", "certificate"),
        ("We are mitigating a DDoS attack against our edge.", "security"),
        ("There is no evidence of a security incident. Root cause: fiber cut.", "network"),
        ("Replication lag on the primary database cluster.", "database"),
        ("A configuration change was rolled back.", "configuration"),
        ("The incident was triggered by a deployment to the API tier.", "deployment"),
        ("Unprecedented demand led to capacity constraints.", "capacity"),
        ("Errors during scheduled maintenance of the storage layer.", "database"),
        ("Impact was due to planned maintenance running long.", "maintenance"),
        ("We are investigating elevated error rates.", "unknown"),
        # a causal statement beats a mere mention earlier in the text
        ("A deployment was paused. The outage was caused by a DNS failure.", "dns"),
    ],
)
def test_the_stated_cause_table(text: str, category: str) -> None:
    assert classify_text(text).category == category


def test_the_newest_causal_update_wins_and_keeps_its_phrase() -> None:
    inc = incident(
        "openai",
        "o2",
        "2024-12-26 19:00",
        bodies=(
            "We are investigating issues after a deployment.",
            "We have identified that the issue was caused by an upstream provider. Mitigating.",
        ),
        impact=Impact.MAJOR,
    )
    cause = stated_cause(inc)
    assert (cause.category, cause.causal) == ("upstream", True)
    assert cause.phrase == "We have identified that the issue was caused by an upstream provider."

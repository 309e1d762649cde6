"""Microsoft 365, Azure posts, Xbox and Meta: real quiet captures and made-here incidents.

Real documents are read from `../shared/samples/` (never copied into the project); the
incident documents in `tests/feeds/made_here/` were written here (see its README).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifier.diff.engine import diff
from notifier.diff.synth import CLOSE_AFTER, OPEN_AFTER, synthetic_id
from notifier.feeds import registry
from notifier.feeds.detect import detect
from notifier.models import EventKind, Impact, Status
from notifier.store.feeds.snapshot import ProviderState

MADE_HERE = Path(__file__).parent / "made_here"
SAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "samples"
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"real captures not found at {SAMPLES} (../shared/samples)"
)

REAL = {
    "microsoft365/vendordash_feed_mac_2026-08-01.xml": "microsoft-rss",
    "microsoft365/vendordash_posts_mac_2026-08-01.json": "microsoft-posts-json",
    "microsoft365/vendordash_posts_m365Consumer_2026-08-01.json": "microsoft-posts-json",
    "microsoft365/vendordash_posts_azure_2026-08-01.json": "microsoft-posts-json",
    "microsoft365/vendordash_portal_office_servicestatus_2026-07-30.json": "microsoft-portal-json",
    "azure/vendordash_azure_feed_EMPTY_2026-08-01.xml": "azure-rss",
    "meta/vendordash_metastatus_orgs_2026-07-31.json": "meta-orgs-json",
    "incidentio/vendordash_status_openai_summary_2026-07-09.json": "statuspage-json",
    "xbox/wakz_servicestatusv4_US_en-US_2026-09-19_READFILE.xml": "xbox-xml",
    "statuspage_webhook/zulip_component_status_update.json": "statuspage-json",
    "statuspage_webhook/zulip_incident_created.json": "statuspage-json",
    "statuspage_webhook/zulip_incident_update_resolved.json": "statuspage-json",
}

T0 = datetime(2024, 12, 26, 23, 30, tzinfo=UTC)  # after every time the made-here documents give
POLL = timedelta(minutes=2)


@needs_samples
def test_every_real_capture_in_the_shared_samples_is_listed_here() -> None:
    found = {str(p.relative_to(SAMPLES)) for p in SAMPLES.rglob("*") if p.is_file()}
    assert found - {"SOURCES.md"} == set(REAL)


@needs_samples
@pytest.mark.parametrize("name", sorted(REAL))
def test_each_real_capture_is_told_and_read_without_being_told_the_format(name: str) -> None:
    body = (SAMPLES / name).read_bytes()
    assert detect(body) == REAL[name]
    doc = registry.parse(body, "auto", "p")
    assert doc.format == REAL[name]


@needs_samples
@pytest.mark.parametrize(
    ("name", "services"),
    [
        ("microsoft365/vendordash_posts_m365Consumer_2026-08-01.json", 10),
        ("microsoft365/vendordash_portal_office_servicestatus_2026-07-30.json", 10),
        ("meta/vendordash_metastatus_orgs_2026-07-31.json", 51),
        ("xbox/wakz_servicestatusv4_US_en-US_2026-09-19_READFILE.xml", 11),
        ("microsoft365/vendordash_feed_mac_2026-08-01.xml", 1),
        ("microsoft365/vendordash_posts_azure_2026-08-01.json", 1),
    ],
)
def test_quiet_captures_are_all_healthy_and_open_nothing(name: str, services: int) -> None:
    doc = registry.parse((SAMPLES / name).read_bytes(), "auto", "p")
    assert len(doc.services) == services and not doc.incidents
    assert all(s.healthy for s in doc.services), [s.state for s in doc.services]
    state = None
    for n in range(3):
        result = diff(state, doc, T0 + n * POLL)
        assert result.events == ()
        state = result.state
    assert state is not None and not state.services


@needs_samples
def test_real_names_map_to_the_catalog_components() -> None:
    consumer = registry.parse(
        (SAMPLES / "microsoft365/vendordash_posts_m365Consumer_2026-08-01.json").read_bytes(),
        "auto",
        "microsoft365",
    )
    assert "Outlook.com" in {s.name for s in consumer.services}
    meta = registry.parse(
        (SAMPLES / "meta/vendordash_metastatus_orgs_2026-07-31.json").read_bytes(),
        "auto",
        "meta",
    )
    whatsapp = next(s for s in meta.services if s.name.startswith("WhatsApp Business Platform"))
    assert whatsapp.components == ("WhatsApp Business Platform", "WhatsApp")
    graph = next(s for s in meta.services if s.name == "Graph API")  # "Platform Status" alone
    assert graph.state == "No known issues"
    xbox = registry.parse(
        (SAMPLES / "xbox/wakz_servicestatusv4_US_en-US_2026-09-19_READFILE.xml").read_bytes(),
        "auto",
        "xbox",
    )
    names = [s.name for s in xbox.services]
    assert names[0] == "Xbox Live Core Services" and "Games - Xbox One" in names


# ---- made-here incidents: each degraded document opens, the healthy one resolves -----------

# (degraded, healthy, format, the feed names the incident itself)
PAIRS = [
    ("m365_posts_mac_degraded.json", "m365_posts_mac_healthy.json", "microsoft-posts-json", True),
    ("m365_feed_mac_degraded.xml", "m365_feed_mac_healthy.xml", "microsoft-rss", True),
    ("m365_consumer_degraded.json", "m365_consumer_healthy.json", "microsoft-posts-json", False),
    ("azure_posts_degraded.json", "azure_posts_healthy.json", "microsoft-posts-json", False),
    ("portal_degraded.json", "portal_healthy.json", "microsoft-portal-json", False),
    ("xbox_v6_degraded.xml", "xbox_v6_healthy.xml", "xbox-xml", False),
    ("xbox_v6_degraded.json", "xbox_v6_healthy.json", "xbox-json", False),
    ("meta_orgs_degraded.json", "meta_orgs_healthy.json", "meta-orgs-json", False),
]


def _run(files: list[str]) -> tuple[list[list[EventKind]], list, ProviderState | None]:
    state: ProviderState | None = None
    kinds, events = [], []
    for n, name in enumerate(files):
        doc = registry.parse((MADE_HERE / name).read_bytes(), "auto", "vendor")
        result = diff(state, doc, T0 + n * POLL)
        kinds.append([e.kind for e in result.events])
        events.extend(result.events)
        state = result.state
    return kinds, events, state


@pytest.mark.parametrize(("bad", "good", "fmt", "declared"), PAIRS)
def test_a_made_here_degraded_document_becomes_an_incident_and_the_healthy_one_resolves_it(
    bad: str, good: str, fmt: str, declared: bool
) -> None:
    assert detect((MADE_HERE / bad).read_bytes()) == fmt
    opens = 1 if declared else OPEN_AFTER
    closes = 1 if declared else CLOSE_AFTER
    kinds, events, state = _run([bad] * opens + [good] * closes + [good])
    assert [k for k in kinds if k] == [
        [EventKind.NEW_INCIDENT, EventKind.NEW_UPDATE],
        [EventKind.RESOLVED],
    ]
    assert kinds[opens - 1][0] is EventKind.NEW_INCIDENT  # at the confirming poll
    new, resolved = events[0], events[-1]
    assert new.incident.impact is not Impact.NONE and new.incident.status is Status.INVESTIGATING
    assert resolved.incident_id == new.incident_id
    assert resolved.update is not None and resolved.update.status is Status.RESOLVED
    assert resolved.incident.resolved_at == resolved.update.at
    assert state is not None and not state.services  # nothing left to remember


def test_the_feed_gives_the_resolution_its_time_and_words() -> None:
    _, events, _ = _run(["m365_posts_mac_degraded.json", "m365_posts_mac_healthy.json"])
    new, resolved = events[0], events[-1]
    assert new.incident_id == "MO941234"  # Microsoft's own id, not a synthesized one
    assert new.incident.title == (
        "Users may be unable to access Exchange Online and Microsoft Teams"
    )
    assert new.incident.components == ("Exchange Online", "Microsoft Teams")
    assert resolved.update is not None
    assert resolved.update.at == datetime(2024, 12, 26, 23, 10, 0, 765432, tzinfo=UTC)
    assert resolved.update.body == (
        "Service is restored: the underlying infrastructure recovered. (made here)"
    )


def test_a_status_only_incident_has_a_stable_id_from_provider_service_and_start() -> None:
    _, events, _ = _run(["xbox_v6_degraded.xml"] * 2)
    start = datetime(2024, 12, 26, 18, 50, 0, 123456, tzinfo=UTC)
    assert events[0].incident_id == synthetic_id("vendor", "Account & profile", start)
    assert events[0].incident_id.startswith("account-profile-20241226T1850Z-")
    assert events[0].incident.started_at == start
    assert events[0].incident.title == "Account & profile: Impacted"
    assert synthetic_id("other", "Account & profile", start) != events[0].incident_id


def test_flapping_within_a_poll_opens_and_closes_nothing() -> None:
    kinds, _, _ = _run(
        ["meta_orgs_degraded.json", "meta_orgs_healthy.json", "meta_orgs_degraded.json"]
        + ["meta_orgs_healthy.json"] * 3
    )
    assert not any(kinds)


def test_a_blip_back_to_healthy_keeps_one_incident_open() -> None:
    kinds, events, _ = _run(
        ["meta_orgs_degraded.json"] * 2
        + ["meta_orgs_healthy.json", "meta_orgs_degraded.json"]
        + ["meta_orgs_healthy.json"] * 2
    )
    flat = [k for ks in kinds for k in ks]
    assert flat.count(EventKind.NEW_INCIDENT) == 1 and flat.count(EventKind.RESOLVED) == 1
    assert EventKind.REOPENED not in flat
    assert len({e.incident_id for e in events}) == 1


def test_a_change_of_state_while_open_is_one_update() -> None:
    bad = (MADE_HERE / "meta_orgs_degraded.json").read_bytes()
    better = bad.replace(b'"Major Disruption"', b'"Degraded performance"')
    state = None
    seen = []
    for n, body in enumerate([bad, bad, better, better]):
        result = diff(state, registry.parse(body, "auto", "meta"), T0 + n * POLL)
        seen.append([e.kind for e in result.events])
        state = result.state
    assert seen[2] == [EventKind.NEW_UPDATE, EventKind.IMPACT_CHANGED]
    assert seen[3] == []


def test_an_unknown_status_word_is_kept_as_written_and_read_as_degraded() -> None:
    body = (MADE_HERE / "xbox_v6_degraded.xml").read_bytes().replace(b"Impacted", b"Sparkly")
    doc = registry.parse(body, "auto", "xbox")
    service = doc.services[0]
    assert (service.state, service.impact) == ("Sparkly", Impact.MINOR)
    meta = registry.parse(
        (MADE_HERE / "meta_orgs_degraded.json").read_bytes().replace(b"Major Disruption", b"Eh"),
        "auto",
        "meta",
    )
    assert (meta.services[0].state, meta.services[0].impact) == ("Eh", Impact.MINOR)


def test_xbox_names_the_affected_scenario_and_its_incident_text() -> None:
    doc = registry.parse((MADE_HERE / "xbox_v6_degraded.json").read_bytes(), "auto", "xbox")
    account = doc.services[0]
    # The category says None, its scenario does not: the worst scenario's word counts.
    assert (account.state, account.impact) == ("Major outage", Impact.MAJOR)
    assert account.message.startswith("Sign-in: Major outage. You may not be able")
    assert "Sign-in is failing for most users. (made here)" in account.message


def test_meta_history_uses_metas_own_ids_and_updates() -> None:
    body = (MADE_HERE / "meta_history.json").read_bytes()
    assert detect(body) == "meta-history-json"
    doc = registry.parse(body, "auto", "meta")
    closed, open_ = doc.incidents
    assert (closed.id, closed.status, closed.components) == (
        "1234567890",
        Status.RESOLVED,
        ("Cloud API",),
    )
    assert closed.resolved_at == datetime(2024, 10, 4, 19, 10, tzinfo=UTC)
    assert [u.body for u in closed.updates][-1] == "Messages are flowing again. (made here)"
    assert open_.is_active and open_.components == ("Messenger Platform",)
    assert open_.started_at == datetime(2024, 10, 7, 20, 0, tzinfo=UTC)


def test_a_pending_change_makes_the_next_poll_read_an_unchanged_document_again() -> None:
    doc = registry.parse((MADE_HERE / "meta_orgs_degraded.json").read_bytes(), "auto", "meta")
    first = diff(None, doc, T0).state
    assert first.recheck  # the second sighting must be read even if the bytes are the same
    opened = diff(first, doc, T0 + POLL).state
    assert not opened.recheck
    again = ProviderState.from_json(opened.to_json())
    assert again == opened  # the memory survives Redis


def test_metastatus_answers_its_web_app_for_unknown_paths_and_that_is_not_a_feed() -> None:
    from notifier.feeds.errors import HtmlPageError

    page = b"<!DOCTYPE html><html><head><title>Meta Status</title></head><body></body></html>"
    with pytest.raises(HtmlPageError):
        registry.parse(page, "meta-history-json", "meta")

"""Statuspage webhook deliveries read as pushes: the real payload shapes from
../shared/samples (never copied here), and the same update keys a poll gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from notifier.feeds import registry, webhook
from notifier.feeds.errors import ParseError
from notifier.models import DocumentKind, Status
from tests.support.push_kit import SAMPLES, incident_push
from tests.support.statuspage_docs import FakeIncident, summary_json


def _sample(name: str) -> bytes:
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"Statuspage webhook samples not found at {SAMPLES}")
    return Path(path).read_bytes()


def test_an_incident_created_delivery_is_one_open_incident_with_its_update() -> None:
    push = webhook.parse(_sample("zulip_incident_created.json"), "zulip-test")
    assert push.component is None and push.incident is not None
    inc = push.incident
    assert (inc.id, inc.title, inc.status) == ("z3lct0r596n4", "Database query delays",
                                               Status.IDENTIFIED)  # fmt: skip
    assert [u.status for u in inc.updates] == [Status.IDENTIFIED]
    assert inc.updates[0].key == "20171226T0732Z#1"
    assert push.document().kind is DocumentKind.HISTORY  # absence in it means nothing


def test_an_incident_resolved_delivery_carries_every_update_oldest_first() -> None:
    push = webhook.parse(_sample("zulip_incident_update_resolved.json"), "zulip-test")
    assert push.incident is not None
    assert push.incident.status is Status.RESOLVED
    assert [u.status for u in push.incident.updates] == [Status.IDENTIFIED, Status.RESOLVED]
    assert push.incident.resolved_at is not None


def test_a_component_update_delivery_names_the_component_and_its_change() -> None:
    push = webhook.parse(_sample("zulip_component_status_update.json"), "zulip-test")
    assert push.incident is None and push.component is not None
    change = push.component
    assert (change.component, change.old_status, change.new_status) == (
        "Database component", "operational", "under_maintenance")  # fmt: skip


def test_a_pushed_update_has_the_key_a_poll_of_the_page_gives_it() -> None:
    incident = FakeIncident("k7push0001", "Elevated errors")
    incident.add("investigating", "2024-12-26T19:00:12.000Z", "Looking into it.")
    incident.add("identified", "2024-12-26T19:00:48.000Z", "Found it.")
    pushed = webhook.parse(incident_push(incident), "acme").incident
    polled = registry.parse(summary_json([incident]), "statuspage-json", "acme").incidents[0]
    assert pushed is not None
    assert [u.key for u in pushed.updates] == [u.key for u in polled.updates]
    assert pushed.id == polled.id


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[1, 2]", b'{"page": {"id": "x"}}', b'{"incident": []}',
     b'{"incident": {"name": "no id"}}', b'{"component_update": {}}'],
)  # fmt: skip
def test_a_body_that_is_not_a_statuspage_delivery_is_refused(body: bytes) -> None:
    with pytest.raises(ParseError):
        webhook.parse(body, "acme")

"""Ids over 200 and titles over 500 characters are cut as a document is parsed; a cut
id keeps a hash of the whole, so identity survives."""

from __future__ import annotations

import json

from notifier.feeds import registry
from notifier.feeds.bounds import MAX_ID, MAX_TITLE, bounded_id
from notifier.feeds.webhook import parse as parse_push


def _summary(ids_titles: list[tuple[str, str]]) -> bytes:
    # Made here: the smallest Statuspage summary.json the parser reads.
    incidents = [
        {"id": i, "name": t, "status": "investigating", "impact": "minor",
         "created_at": "2024-12-26T19:00:00Z", "updated_at": "2024-12-26T19:00:00Z",
         "shortlink": None, "incident_updates": [], "components": []}
        for i, t in ids_titles
    ]  # fmt: skip
    return json.dumps({"page": {"id": "p", "name": "Acme"}, "incidents": incidents}).encode()


def test_a_huge_id_is_cut_with_a_stable_hash_and_two_that_share_a_beginning_stay_two() -> None:
    a, b = "x" * 500_000, "x" * 499_999 + "y"
    doc = registry.parse(_summary([(a, "A"), (b, "B")]), "statuspage-json", "acme")
    ids = [i.id for i in doc.incidents]
    assert all(len(i) <= MAX_ID for i in ids) and ids[0] != ids[1]
    assert ids == [bounded_id(a), bounded_id(b)]  # the same id always cuts the same way
    again = registry.parse(_summary([(a, "A")]), "statuspage-json", "acme")
    assert again.incidents[0].id == ids[0]


def test_a_short_id_and_title_are_left_alone() -> None:
    doc = registry.parse(_summary([("abc123", "Short")]), "statuspage-json", "acme")
    assert (doc.incidents[0].id, doc.incidents[0].title) == ("abc123", "Short")


def test_a_huge_title_is_cut_to_five_hundred_characters() -> None:
    doc = registry.parse(_summary([("i1", "t" * 100_000)]), "statuspage-json", "acme")
    assert len(doc.incidents[0].title) == MAX_TITLE and doc.incidents[0].title.endswith("…")


def test_a_webhook_push_is_cut_the_same_way() -> None:
    raw = json.loads(_summary([("z" * 1000, "T" * 1000)]))["incidents"][0]
    push = parse_push(
        json.dumps({"meta": {}, "page": {"id": "p"}, "incident": raw}).encode(), "acme"
    )
    assert push.incident is not None
    assert push.incident.id == bounded_id("z" * 1000) and len(push.incident.title) == MAX_TITLE

"""Every real document in the feed corpus, parsed and checked against its sidecar.

The corpus (`../shared/feeds/`, or `$NOTIFIER_FEED_CORPUS`) holds real status-feed
documents. Each document `<dir>/<name>` must have a sidecar
`tests/corpus/<dir>/<name>.yaml`; a document without one FAILS, so a new corpus file
cannot slip in unchecked. A sidecar states facts read from the document by hand:

```yaml
# Facts checked by reading the document itself.
format: statuspage-atom        # registered parser name (not `auto`)
provider: github               # provider id passed to the parser
document_kind: history         # history | active
incident_count: 25             # incidents in the parsed FeedDocument
auto: false                    # optional: skip the auto-detection check ...
auto_reason: "..."             # ... and say why (required with `auto: false`)
incidents:                     # only the incidents checked by hand, keyed by normalized id
  jmfzh1p2yrg2:
    title: "..."
    url: "https://..."         # optional
    status: resolved           # Status value
    impact: minor              # Impact value
    kind: incident             # incident | maintenance
    started_at: "2025-04-16T01:46:00Z"   # ISO 8601 UTC, second precision; null allowed
    updated_at: "..."          # optional
    resolved_at: "..."         # null when still open
    components: [...]          # optional, exact tuple in order
    regions: [...]             # optional
    update_count: 11
    updates:                   # index into oldest-first updates (negative allowed)
      0: {at: "...Z", status: investigating, body_contains: "..."}
      -1: {at: "...Z", status: resolved}
```

Every stated key is checked; an unknown key fails (a typo must not silently check
nothing). The document is also parsed with `auto`, whose result must equal the named
format's result (same format name, kind and incidents).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from notifier.feeds import registry
from notifier.models import FeedDocument, Incident, iso

ROOT = Path(__file__).resolve().parents[2]
SIDECARS = ROOT / "tests" / "corpus"

INCIDENT_KEYS = {
    "title",
    "url",
    "status",
    "impact",
    "kind",
    "started_at",
    "updated_at",
    "resolved_at",
    "components",
    "regions",
    "update_count",
    "updates",
}
UPDATE_KEYS = {"at", "status", "body_contains", "body_not_contains", "key"}
TOP_KEYS = {
    "format",
    "provider",
    "document_kind",
    "incident_count",
    "incidents",
    "auto",
    "auto_reason",
}


def _corpus_root() -> Path | None:
    # Same lookup as the `corpus` fixture; needed at collection time to parametrize.
    env = os.environ.get("NOTIFIER_FEED_CORPUS")
    for candidate in [Path(env)] if env else [ROOT.parent / "shared" / "feeds"]:
        if candidate.is_dir():
            return candidate
    return None


def _documents() -> list[str]:
    root = _corpus_root()
    if root is None:
        return ["<corpus missing>"]
    found = (p for p in root.rglob("*") if p.is_file() and p.name != "SOURCES.md")
    return sorted(p.relative_to(root).as_posix() for p in found)


DOCUMENTS = _documents()


def _load_sidecar(rel: str) -> dict[str, Any]:
    path = SIDECARS / f"{rel}.yaml"
    if not path.is_file():
        pytest.fail(f"corpus document {rel} has no sidecar: write {path.relative_to(ROOT)}")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path}: sidecar must be a mapping"
    unknown = set(data) - TOP_KEYS
    assert not unknown, f"{path}: unknown keys {sorted(unknown)}"
    return data


def _check_update(incident: Incident, index: int, facts: dict[str, Any], where: str) -> None:
    unknown = set(facts) - UPDATE_KEYS
    assert not unknown, f"{where}: unknown update keys {sorted(unknown)}"
    assert -len(incident.updates) <= index < len(incident.updates), f"{where}: no update {index}"
    update = incident.updates[index]
    if "at" in facts:
        assert iso(update.at) == facts["at"], f"{where}: at"
    if "status" in facts:
        assert update.status.value == facts["status"], f"{where}: status"
    if "body_contains" in facts:
        assert facts["body_contains"] in update.body, f"{where}: body {update.body!r}"
    if "body_not_contains" in facts:
        assert facts["body_not_contains"] not in update.body, f"{where}: body {update.body!r}"
    if "key" in facts:
        assert update.key == facts["key"], f"{where}: key"


def _plain(value: Any) -> Any:
    """The sidecar spelling of an Incident attribute."""
    if hasattr(value, "tzinfo"):
        return iso(value)
    if isinstance(value, tuple):
        return list(value)
    return getattr(value, "value", value)


def _check_incident(incident: Incident, facts: dict[str, Any], where: str) -> None:
    unknown = set(facts) - INCIDENT_KEYS
    assert not unknown, f"{where}: unknown incident keys {sorted(unknown)}"
    for key, expected in facts.items():
        if key == "update_count":
            assert len(incident.updates) == expected, f"{where}: update_count"
        elif key == "updates":
            for index, update_facts in expected.items():
                _check_update(incident, int(index), update_facts, f"{where} update {index}")
        else:
            assert _plain(getattr(incident, key)) == expected, f"{where}: {key}"


def _check_document(doc: FeedDocument, facts: dict[str, Any], rel: str) -> None:
    assert doc.kind.value == facts["document_kind"], f"{rel}: document_kind"
    assert len(doc.incidents) == facts["incident_count"], f"{rel}: incident_count"
    by_id = {i.id: i for i in doc.incidents}
    assert len(by_id) == len(doc.incidents), f"{rel}: duplicate incident ids"
    for incident_id, incident_facts in (facts.get("incidents") or {}).items():
        where = f"{rel} incident {incident_id}"
        assert str(incident_id) in by_id, f"{where}: not found among {sorted(by_id)}"
        _check_incident(by_id[str(incident_id)], incident_facts or {}, where)


@pytest.mark.parametrize("rel", DOCUMENTS)
def test_corpus_document_matches_its_sidecar(rel: str, corpus: Path) -> None:
    facts = _load_sidecar(rel)
    body = (corpus / rel).read_bytes()
    doc = registry.parse(body, facts["format"], facts["provider"])
    _check_document(doc, facts, rel)
    if facts.get("auto", True):
        auto = registry.parse(body, "auto", facts["provider"])
        assert auto == doc, f"{rel}: auto detection gave {auto.format!r}, not {facts['format']!r}"
    else:
        assert facts.get("auto_reason"), f"{rel}: `auto: false` needs an auto_reason"


def test_every_sidecar_has_a_corpus_document(corpus: Path) -> None:
    # A sidecar whose document is gone checks nothing; catch renames.
    orphans = [
        p.relative_to(SIDECARS).as_posix()
        for p in SIDECARS.rglob("*.yaml")
        if not (corpus / p.relative_to(SIDECARS).as_posix().removesuffix(".yaml")).is_file()
    ]
    assert not orphans, f"sidecars without a corpus document: {orphans}"

"""Decisions from what was known then: a replay cut short at any capture makes exactly
the alerts the full replay made up to that capture.

Grouping into cascades, upstream annotations, follow-ups and late detection for a
capture at time t must never read state written by a later capture. Each scenario is
replayed whole, then once per capture time T with every later capture removed; the
events and alerts at or before T must be identical. Scenarios: the shipped Dec 26
example, and a cascade of nine providers made here (an upstream, Acme Cloud, and eight
vendors that run on it, each seen going down a few minutes after the one before).
"""

from __future__ import annotations

import io
import json
import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from notifier.cli.replay import run_replay
from notifier.pipeline.replay import parse_stamp
from tests.support.statuspage_docs import FakeIncident, incidents_json

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "2024-12-26-openai-azure"
T0 = datetime(2025, 3, 4, 6, 0, tzinfo=UTC)
VENDORS = 8


def _stamp(at: datetime) -> str:
    return at.strftime("%Y%m%dT%H%M%SZ")


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _cascade(root: Path) -> Path:
    """Acme Cloud goes down at 06:10; Vendor1..Vendor8 follow, five minutes apart
    (Vendor8 at 06:50, seen at 06:52); Acme recovers at 07:30, the vendors after it,
    and everyone is captured again at 09:05. History windows, so resolutions show."""
    feed = "feed: {{url: 'https://{}.example/api/v2/incidents.json', format: statuspage-json}}"
    providers = f"providers:\n  - id: acme\n    name: Acme Cloud\n    {feed.format('acme')}\n"
    for i in range(1, VENDORS + 1):
        providers += (
            f"  - id: v{i}\n    name: Vendor{i}\n"
            f"    {feed.format(f'v{i}')}\n"
            "    depends_on: [acme]\n"
        )
    (root / "subscriptions.yaml").write_text(
        providers + "subscribers:\n"
        "  - name: oncall\n    sms: {to: ['+15550199']}\n    filters: {min_impact: major}\n"
        "  - name: ops\n    slack: {channel: '#ops'}\n    email: {to: [ops@example.com]}\n"
    )

    def capture(provider: str, at: datetime, incidents: list[FakeIncident]) -> None:
        folder = root / provider
        folder.mkdir(exist_ok=True)
        (folder / f"{_stamp(at)}.json").write_bytes(incidents_json(incidents, provider))

    acme = FakeIncident(
        "acme1", "Acme Cloud network outage", created_at=_iso(T0 + timedelta(minutes=10))
    )
    acme.add("investigating", _iso(T0 + timedelta(minutes=10)), "Network outage in us-east.")
    capture("acme", T0, [])
    capture("acme", T0 + timedelta(minutes=12), [acme])
    acme.add("identified", _iso(T0 + timedelta(minutes=40)), "A router failed.")
    capture("acme", T0 + timedelta(minutes=45), [acme])
    acme.add("resolved", _iso(T0 + timedelta(minutes=90)), "Recovered.")
    capture("acme", T0 + timedelta(minutes=95), [acme])
    capture("acme", T0 + timedelta(hours=3, minutes=5), [acme])
    for i in range(1, VENDORS + 1):
        began = T0 + timedelta(minutes=10 + 5 * i)
        inc = FakeIncident(f"v{i}inc", f"Vendor{i} errors", created_at=_iso(began))
        inc.add("investigating", _iso(began), f"Vendor{i} sees errors.")
        capture(f"v{i}", T0, [])
        capture(f"v{i}", began + timedelta(minutes=2), [inc])
        inc.add("resolved", _iso(T0 + timedelta(minutes=100 + i)), "Fixed.")
        capture(f"v{i}", T0 + timedelta(minutes=105 + i), [inc])
        capture(f"v{i}", T0 + timedelta(hours=3, minutes=5), [inc])
    return root / "subscriptions.yaml"


def _replay(root: Path, config: Path) -> list[dict[str, Any]]:
    out, err = io.StringIO(), io.StringIO()
    assert run_replay(root, config, out, err) == 0, err.getvalue()
    return [json.loads(line) for line in out.getvalue().splitlines()]


def _captures(root: Path) -> list[datetime]:
    return sorted(
        {at for f in root.glob("*/*") if f.is_file() and (at := parse_stamp(f.name)) is not None}
    )


def _cut(root: Path, end: datetime, into: Path) -> Path:
    """A copy of `root` without any capture (or saved history) later than `end`."""
    shutil.copytree(root, into)
    for f in into.rglob("*"):
        at = parse_stamp(f.name) if f.is_file() else None
        if at is not None and at > end:
            f.unlink()
    return into


def _until(records: list[dict[str, Any]], end: datetime) -> Counter[str]:
    limit = end.strftime("%Y-%m-%dT%H:%M:%SZ")
    return Counter(json.dumps(r, sort_keys=True) for r in records if r["at"] <= limit)


def _assert_no_hindsight(root: Path, config: Path, tmp_path: Path) -> list[dict[str, Any]]:
    whole = _replay(root, config)
    captures = _captures(root)
    assert len(captures) > 3
    for n, end in enumerate(captures[:-1]):
        cut = _cut(root, end, tmp_path / f"cut{n}")
        shorter = _replay(cut, cut / config.relative_to(root))
        assert _until(shorter, end) == _until(whole, end), f"cut at {end:%H:%M}"
    return whole


def test_the_dec26_example_decides_nothing_from_later_captures(tmp_path: Path) -> None:
    whole = _assert_no_hindsight(EXAMPLE, EXAMPLE / "subscriptions.yaml", tmp_path)
    assert any(r["type"] == "alert" and r["kind"] == "follow_up" for r in whole)


def test_a_nine_provider_cascade_decides_nothing_from_later_captures(tmp_path: Path) -> None:
    root = tmp_path / "cascade"
    root.mkdir()
    config = _cascade(root)
    whole = _assert_no_hindsight(root, config, tmp_path)
    pages = [r for r in whole if r["type"] == "alert" and r["channel"] == "sms"]
    # one page for Acme; every vendor, Vendor8 included, is named in follow-ups
    assert [(p["provider"], p["kind"]) for p in pages if p["kind"] == "new"] == [("acme", "new")]
    folded = " ".join(p["text"] for p in pages if p["kind"] == "follow_up")
    for i in range(1, VENDORS + 1):
        assert f"Vendor{i}" in folded


@pytest.mark.parametrize("later", [True, False])
def test_vendor8_is_folded_whether_or_not_a_later_capture_exists(
    tmp_path: Path, later: bool
) -> None:
    root = tmp_path / "cascade"
    root.mkdir()
    config = _cascade(root)
    if not later:
        for f in root.glob(f"*/{_stamp(T0 + timedelta(hours=3, minutes=5))}.json"):
            f.unlink()
    sms = [r for r in _replay(root, config) if r["type"] == "alert" and r["channel"] == "sms"]
    assert not [r for r in sms if r["provider"] == "v8" and r["kind"] == "new"]

"""`notifier report`: a provider's month from its own history feed, as text, JSON and CSV:
its incidents, the minutes at each impact, time to resolve, the longest, per component."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from notifier.cli import main
from notifier.config.settings import get_settings
from notifier.history.report import p90
from tests.support.statuspage_docs import FakeIncident, incidents_json


def _incident(code: str, impact: str, start: str, end: str, *components: str) -> FakeIncident:
    inc = FakeIncident(code, f"Trouble {code}", impact, start, components=list(components))
    return inc.add("investigating", start, "Looking").add("resolved", end, "Fixed")


@pytest.fixture
def github(history_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """GitHub's history feed with November 2025 (and an October incident outside it)."""
    feed = tmp_path / "incidents.json"
    feed.write_bytes(incidents_json([
        _incident("gh01", "major", "2025-11-03T10:00:00.000Z", "2025-11-03T11:30:00.000Z",
                  "Actions"),
        _incident("gh02", "minor", "2025-11-10T08:00:00.000Z", "2025-11-10T08:20:00.000Z",
                  "Git Operations"),
        _incident("gh03", "critical", "2025-11-21T23:00:00.000Z", "2025-11-22T03:00:00.000Z",
                  "Actions"),
        _incident("gh00", "major", "2025-10-30T10:00:00.000Z", "2025-10-30T11:00:00.000Z"),
    ], page="GitHub"))  # fmt: skip
    monkeypatch.setenv("NOTIFIER_DATABASE_URL", history_url)
    monkeypatch.setenv("NOTIFIER_CONFIG", str(tmp_path / "none.yaml"))
    get_settings.cache_clear()
    assert main(["history", "import", str(feed), "--provider", "github"]) == 0
    yield history_url
    get_settings.cache_clear()


def test_the_month_prints_its_incidents_and_minutes_by_impact(
    github: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["report", "--provider", "github", "--month", "2025-11"]) == 0
    out = capsys.readouterr().out
    assert "github (github): 3 incidents" in out
    assert "minutes by impact: critical 240, major 90, minor 20, none 0" in out
    assert "time to resolve: median 90 min, p90 240 min" in out
    assert "longest: gh03 'Trouble gh03' 240 min" in out
    assert "    Actions: 2 incidents" in out and "    Git Operations: 1 incidents" in out
    assert "github/gh00" not in out  # October


def test_json_and_csv_say_the_same(github: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["report", "--provider", "github", "--month", "2025-11", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (total,) = [p for p in doc["providers"] if p["component"] == ""]
    assert total["incidents"] == 3 and total["minutes"]["critical"] == 240
    assert [i["incident_id"] for i in doc["incidents"]] == ["gh01", "gh02", "gh03"]
    assert main(["report", "--quarter", "2025Q4", "--csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["provider"] == "github" and rows[0]["incidents"] == "4"  # with October
    assert rows[0]["period"] == "2025Q4" and float(rows[0]["minutes_major"]) == 150


def test_a_bad_period_is_refused_plainly(github: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--month", "Nov"]) == 2
    assert "write it as 2025-11" in capsys.readouterr().err


def test_p90_is_the_nearest_rank() -> None:
    assert p90([]) is None
    assert p90([5.0]) == 5.0
    assert p90([float(n) for n in range(1, 11)]) == 9.0


def test_the_upstream_share_counts_incidents_that_began_while_an_upstream_was_open(
    history_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    config = tmp_path / "subscriptions.yaml"
    config.write_text("providers:\n  - id: openai\n  - id: azure\n"
                      "subscribers:\n  - name: platform\n    slack: {channel: '#x'}\n")  # fmt: skip
    monkeypatch.setenv("NOTIFIER_DATABASE_URL", history_url)
    monkeypatch.setenv("NOTIFIER_CONFIG", str(config))
    get_settings.cache_clear()
    feeds = {
        "azure": [
            _incident("az1", "major", "2024-12-26T18:40:00.000Z", "2024-12-27T01:00:00.000Z")
        ],
        "openai": [
            _incident("oa1", "major", "2024-12-26T19:05:00.000Z", "2024-12-27T00:30:00.000Z"),
            _incident("oa2", "minor", "2024-12-28T09:00:00.000Z", "2024-12-28T09:30:00.000Z"),
        ],
    }  # fmt: skip
    try:
        for provider, incidents in feeds.items():
            path = tmp_path / f"{provider}.json"
            path.write_bytes(incidents_json(incidents))
            assert main(["history", "import", str(path), "--provider", provider]) == 0
        capsys.readouterr()
        assert main(["report", "--provider", "openai", "--month", "2024-12"]) == 0
        out = capsys.readouterr().out
    finally:
        get_settings.cache_clear()
    assert "OpenAI (openai): 2 incidents" in out
    assert "began while an upstream had one open: 1 of 2" in out
    assert "began while open upstream: azure/az1" in out

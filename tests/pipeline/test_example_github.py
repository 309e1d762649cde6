"""The shipped example alerts on a real GitHub incident in replay (issue 31).

GitHub's page is on Statuspage; the catalog reads its JSON API, which states
impact. The capture is GitHub's own summary.json of 25 Nov 2022 with an open major
incident ("Incident with Packages and Pages"). Before, the catalog read the Atom
feed, which carries no impact, and the example's `min_impact: minor` never let a
GitHub incident through.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

from notifier.cli.replay import run_replay

EXAMPLE = Path(__file__).parents[2] / "config" / "subscriptions.example.yaml"
SUMMARY = "statuspage_json/githubstatus_summary_2022-11-25_active_incident.json"
ATOM = "statuspage/githubstatus_history_atom_series/githubstatus_history_2025-04-16T0429Z.atom"


def _replay(root: Path) -> list[dict[str, object]]:
    out, err = io.StringIO(), io.StringIO()
    assert run_replay(root, EXAMPLE, out, err) == 0, err.getvalue()
    assert "skipped" not in err.getvalue()
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_the_shipped_example_alerts_on_a_github_incident(corpus: Path, tmp_path: Path) -> None:
    (tmp_path / "github").mkdir()
    shutil.copy(corpus / SUMMARY, tmp_path / "github" / "20221125T160000Z.json")
    lines = _replay(tmp_path)
    opened = [r for r in lines if r["type"] == "event" and r["kind"] == "new_incident"]
    assert [r["title"] for r in opened] == ["Incident with Packages and Pages"]
    first = {(r["subscriber"], r["channel"]) for r in lines
             if r["type"] == "alert" and r["kind"] == "new"}  # fmt: skip
    # major: Slack and email, and the SMS page (channels_filters.sms: min_impact major)
    assert first == {("platform", "slack"), ("platform", "sms"), ("platform", "email")}


def test_an_atom_snapshot_saved_before_the_move_still_replays(corpus: Path, tmp_path: Path) -> None:
    (tmp_path / "github").mkdir()
    shutil.copy(corpus / ATOM, tmp_path / "github" / "20250416T042900Z.atom")
    lines = _replay(tmp_path)
    assert any(r["type"] == "event" and r["kind"] == "new_incident" for r in lines)

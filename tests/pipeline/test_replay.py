"""`notifier replay` on real status-page histories from the corpus.

Each series is laid out as the command expects (`DIR/<provider>/<stamp>.<ext>`,
symlinks into the corpus) and replayed; the events must equal the list in
tests/pipeline/replay_expected/<series>.jsonl, written by reading the documents:

- github_2023: 16057746 "Incident with Codespaces" is open (13 updates) in the first
  capture, resolved with 12 more the next day; maintenance 16051676 is scheduled,
  then in progress, then completed.
- github_2025: 24666624 "Disruption with some GitHub services" open with 7 updates,
  then 9, then resolved with 11; "Incident with Pull Requests" rotated in already
  resolved (opened and closed between two daily captures); a new scheduled
  maintenance appears in the last capture.
- digitalocean: .atom and .rss twins of the same instant add nothing; after gaps of
  days or months, incidents that began and ended in the gap (closed more than a day
  before the capture, after the previous one) are late news: reported whole and
  flagged `late`; those closed within the day (or still open) are reported as usual;
  the Block Storage and AMS3 maintenances go in progress → completed.
- symantec: maintenance TLV1 scheduled, then completed (its in-progress and completed
  updates arrive together: one status event, to the latest status), next to
  maintenances created after the first capture and still scheduled; maintenances that
  ran and completed between the two captures (three weeks apart) are late news.

A resolution carries the update that resolved it (there is no separate `new_update`
of it).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from notifier.cli import main
from notifier.cli.replay import run_replay
from notifier.models import ChangeEvent, iso
from notifier.pipeline.replay import Snapshot, discover, parse_stamp, replay

EXPECTED = Path(__file__).parent / "replay_expected"
GH = "statuspage/githubstatus_history_atom_series/githubstatus_history_"
DO = "statuspage/digitalocean_history_series/digitalocean_history_"
SY = "statuspage/symantec_wss_history_series/symantec_wss_history_"

# series name → (provider id, corpus file prefix, capture stamps as in the file names)
SERIES: dict[str, tuple[str, str, list[str]]] = {
    "github_2023": ("github", GH, ["2023-02-08T0426Z", "2023-02-09T0425Z", "2023-02-10T0425Z"]),
    "github_2025": ("github", GH, ["2025-04-16T0429Z", "2025-04-17T0429Z", "2025-04-18T0429Z"]),
    "digitalocean": (
        "digitalocean",
        DO,
        [
            "2019-10-30T2305Z.atom",
            "2019-10-31T1821Z.atom",
            "2020-01-05T0338Z.atom",
            "2020-01-05T0338Z.rss",
            "2020-01-11T1157Z.rss",
            "2020-01-13T0810Z.atom",
            "2020-01-21T2100Z.atom",
            "2020-01-21T2100Z.rss",
            "2020-01-23T0200Z.atom",
            "2020-01-23T0200Z.rss",
            "2020-01-23T2139Z.atom",
            "2020-01-23T2139Z.rss",
        ],
    ),
    "symantec": ("symantec", SY, ["2019-12-10T1800Z", "2020-01-02T1541Z"]),
}


def build_dir(corpus: Path, series: str, tmp: Path) -> Path:
    """Symlink a corpus series into DIR/<provider>/<YYYYMMDDTHHMMSSZ>.<ext>."""
    provider, prefix, captures = SERIES[series]
    (tmp / provider).mkdir(parents=True)
    for capture in captures:
        name = capture if "." in capture else capture + ".atom"
        source = corpus / f"{prefix}{name}"
        stamp, ext = name.split(".")
        when = datetime.strptime(stamp, "%Y-%m-%dT%H%MZ")
        (tmp / provider / f"{when:%Y%m%dT%H%M%S}Z.{ext}").symlink_to(source)
    return tmp


def project(snap: Snapshot, e: ChangeEvent) -> dict[str, Any]:
    """The essential fields an expectation pins down."""
    line = {"at": iso(snap.at), "kind": e.kind.value, "incident_id": e.incident_id}
    line["status"] = e.update.status.value if e.update else e.incident.status.value
    if e.update is not None:
        line["update_at"] = iso(e.update.at)
    if e.earlier:  # a burst seen in one poll: one event carries the updates before it
        line["earlier"] = [f"{iso(u.at)} {u.status.value}" for u in e.earlier]
    if e.late:
        line["late"] = True
    return line


@pytest.mark.parametrize("series", sorted(SERIES))
def test_replaying_a_real_history_gives_exactly_the_expected_events(
    corpus: Path, tmp_path: Path, series: str
) -> None:
    root = build_dir(corpus, series, tmp_path)
    problems: list[str] = []
    got = [project(s, e) for s, e in replay(root, report=problems.append)]
    lines = (EXPECTED / f"{series}.jsonl").read_text().splitlines()
    assert got == [json.loads(x) for x in lines]
    assert problems == []


def test_replaying_twice_gives_the_same_ids(corpus: Path, tmp_path: Path) -> None:
    root = build_dir(corpus, "github_2025", tmp_path)
    first = [e.event_id for _, e in replay(root)]
    assert first == [e.event_id for _, e in replay(root)]
    assert len(first) == len(set(first))


def test_the_command_prints_json_lines_and_reports_bad_files(
    corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = build_dir(corpus, "github_2023", tmp_path)
    (root / "github" / "20230209T000000Z.atom").write_bytes(b"<feed")  # made here: truncated
    (root / "github" / "notes.txt").write_text("made here")
    (root / "github" / ".DS_Store").write_bytes(b"")  # hidden files are ignored
    assert main(["replay", str(root)]) == 0
    out, err = capsys.readouterr()
    records = [json.loads(line) for line in out.splitlines()]
    expected = (EXPECTED / "github_2023.jsonl").read_text().splitlines()
    assert len(records) == len(expected)
    first = next(r for r in records if r["incident_id"] == "cmsz976yn1km" and "update_at" in r)
    assert first["type"] == "event" and first["at"] == "2023-02-08T04:26:00Z"
    assert first["provider"] == "github" and first["incident_id"] == "cmsz976yn1km"
    # first seen with all its updates: one event carrying them, oldest first
    assert first["kind"] == "new_incident" and first["first_seen"] is True
    assert first["earlier"][0] == {"at": "2023-02-07T21:30:00Z", "status": "investigating"}
    assert first["update_at"] == "2023-02-08T03:55:00Z" and first["status"] == "update"
    assert first["title"] == "Incident with Codespaces" and len(first["event_id"]) == 32
    changed = next(r for r in records if r["kind"] == "maintenance_started")
    assert (changed["previous"], changed["current"]) == ("scheduled", "in_progress")
    assert err.count("\n") == 3
    assert "20230209T000000Z.atom: skipped" in err and "notes.txt: skipped" in err
    assert err.splitlines()[-1].startswith("notifier replay: ") and " incidents in " in err


def test_the_command_refuses_a_missing_directory_or_config(tmp_path: Path) -> None:
    err = io.StringIO()
    assert run_replay(tmp_path / "nope", None, io.StringIO(), err) == 2
    assert "not a directory" in err.getvalue()
    err = io.StringIO()
    assert run_replay(tmp_path, tmp_path / "missing.yaml", io.StringIO(), err) == 2
    assert "missing.yaml" in err.getvalue()


def test_a_folder_with_no_provider_folders_is_an_error_that_shows_the_layout(
    tmp_path: Path,
) -> None:
    (tmp_path / "20241226T190500Z.json").write_text("{}")  # a capture, but not in a folder
    out, err = io.StringIO(), io.StringIO()
    assert run_replay(tmp_path, None, out, err) == 2
    assert out.getvalue() == ""
    assert err.getvalue() == (
        f"notifier replay: {tmp_path}: no provider folders in it; expected "
        f"{tmp_path}/<provider-id>/<YYYYMMDDTHHMMSSZ>.<ext>, one file per capture "
        "(e.g. openai/20241226T190500Z.json)\n"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("20230208T042600Z.atom", datetime(2023, 2, 8, 4, 26, tzinfo=UTC)),
        ("20230208T042600Z.json.gz", datetime(2023, 2, 8, 4, 26, tzinfo=UTC)),
        ("20230208T0426Z.atom", None),  # seconds are required
        ("20231308T042600Z.atom", None),  # month 13
        ("20230208T042600Z", None),  # no extension
    ],
)
def test_stamps_in_file_names(name: str, expected: datetime | None) -> None:
    assert parse_stamp(name) == expected


def test_files_of_all_providers_run_in_stamp_order(tmp_path: Path) -> None:
    for provider, stamp in [("b", "20240101T000002Z"), ("a", "20240101T000003Z")]:
        (tmp_path / provider).mkdir()
        (tmp_path / provider / f"{stamp}.json").write_text("{}")  # made here
    (tmp_path / "a" / "20240101T000001Z.json").write_text("{}")
    order = [(s.provider, s.at.second) for s in discover(tmp_path, lambda _: None)]
    assert order == [("a", 1), ("b", 2), ("a", 3)]


def test_with_a_config_each_event_is_followed_by_its_alerts(corpus: Path, tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "config" / "subscriptions.example.yaml"
    root = build_dir(corpus, "github_2023", tmp_path / "snaps")
    out, err = io.StringIO(), io.StringIO()
    code = run_replay(root, example, out, err)
    assert code == 0, err.getvalue()
    kinds = [json.loads(line)["type"] for line in out.getvalue().splitlines()]
    assert kinds[0] == "event" and set(kinds) <= {"event", "alert"}

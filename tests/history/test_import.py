"""`notifier history import`: a directory of saved snapshots gives the incidents
`notifier replay` counts, a provider's own history feeds load too, and importing again
adds nothing."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from notifier.cli import main
from notifier.cli.replay import run_replay
from notifier.config.settings import get_settings
from notifier.history import db
from notifier.history import tables as t

GH = "statuspage/githubstatus_history_atom_series/githubstatus_history_"
STAMPS = ["2022-06-11T2131Z", "2023-02-08T0426Z", "2023-02-09T0425Z", "2023-02-10T0425Z",
          "2025-04-16T0429Z", "2025-04-17T0429Z", "2025-04-18T0429Z"]  # fmt: skip


def _snapshots(corpus: Path, tmp: Path) -> Path:
    """The GitHub history.atom captures as DIR/github/<YYYYMMDDTHHMMSSZ>.atom (symlinks)."""
    (tmp / "github").mkdir(parents=True)
    for stamp in STAMPS:
        day, hm = stamp.rstrip("Z").split("T")
        name = f"{day.replace('-', '')}T{hm}00Z.atom"
        (tmp / "github" / name).symlink_to(corpus / f"{GH}{stamp}.atom")
    return tmp


def _counts(url: str) -> dict[str, int]:
    with db.engine_for(url).connect() as conn:
        return {
            tbl.name: int(conn.execute(select(func.count()).select_from(tbl)).scalar_one())
            for tbl in t.metadata.sorted_tables
        }


@pytest.fixture
def env(history_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The command's settings: this database, no subscription file."""
    monkeypatch.setenv("NOTIFIER_DATABASE_URL", history_url)
    monkeypatch.setenv("NOTIFIER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NOTIFIER_CONFIG", str(tmp_path / "none.yaml"))
    get_settings.cache_clear()
    yield history_url
    get_settings.cache_clear()


def test_importing_snapshots_gives_the_replay_count_and_twice_adds_nothing(
    corpus: Path, tmp_path: Path, env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _snapshots(corpus, tmp_path / "snaps")
    err = io.StringIO()
    assert run_replay(root, None, io.StringIO(), err) == 0
    counted = re.search(r"notifier replay: (\d+) incidents in 7 snapshots", err.getvalue())
    assert counted is not None, err.getvalue()
    replayed = int(counted.group(1))
    assert replayed > 25  # more than one window of 25: every capture adds its own

    assert main(["history", "import", str(root)]) == 0
    out = capsys.readouterr().out
    assert f"{replayed} incidents read, {replayed} new" in out
    first = _counts(env)
    assert first["incidents"] == replayed and first["providers"] == 1
    assert first["updates"] > replayed  # each incident with its updates

    assert main(["history", "import", str(root)]) == 0
    assert f"{replayed} incidents read, 0 new" in capsys.readouterr().out
    assert _counts(env) == first


@pytest.mark.parametrize(
    ("path", "provider", "expected"),
    [
        ("gcp/gcp_incidents_json_2022-07-03.json", "gcp", 157),
        ("aws/aws_shd_data_json_2022-07-03.json", "aws", 86),
        ("statuspage/streamyard_history_2024-06-10.atom", "streamyard", 17),
    ],
)
def test_a_providers_own_history_feed_imports_once(
    corpus: Path, env: str, capsys: pytest.CaptureFixture[str], path: str, provider: str,
    expected: int,
) -> None:  # fmt: skip
    source = str(corpus / path)
    assert main(["history", "import", source, "--provider", provider]) == 0
    assert f"{expected} incidents read, {expected} new" in capsys.readouterr().out
    first = _counts(env)
    assert main(["history", "import", source, "--provider", provider]) == 0
    assert _counts(env) == first
    with db.engine_for(env).connect() as conn:
        started = conn.execute(select(func.min(t.incidents.c.started_at))).scalar_one()
    assert started is not None


def test_a_feed_file_without_a_provider_is_refused(
    corpus: Path, env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", "import", str(corpus / "gcp/gcp_incidents_json_2022-07-03.json")]) == 2
    assert "give --provider ID" in capsys.readouterr().err
    assert _counts(env)["incidents"] == 0

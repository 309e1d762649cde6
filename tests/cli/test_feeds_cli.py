"""`notifier feed parse`: JSON out for readable documents, exit 2 and one line otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from notifier.cli import main


def test_it_prints_the_normalized_document(
    corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = corpus / "statuspage" / "streamyard_history_2024-06-10.rss"
    assert main(["feed", "parse", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["provider"], out["format"], out["document_kind"]) == (
        "streamyard_history_2024-06-10",
        "statuspage-rss",
        "history",
    )
    first = out["incidents"][0]
    assert first["id"] == "l4222m9bmd6k" and first["started_at"] == "2024-02-08T08:29:00Z"


def test_format_and_provider_can_be_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "summary.json"  # made here
    path.write_text('{"page": {}, "incidents": [], "components": [], "status": {}}')
    assert (
        main(["feed", "parse", str(path), "--format", "statuspage-json", "--provider", "gh"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out == {
        "provider": "gh",
        "format": "statuspage-json",
        "document_kind": "active",
        "incidents": [],
    }


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (b"<html><body>Oops</body></html>", [], "HTML page"),  # an error page
        (b"", [], "empty"),  # nothing at all
        (b"<rss/>", ["--format", "nope"], "unknown feed format"),  # a typo in --format
    ],
)
def test_unreadable_input_exits_2_with_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    args: list[str],
    message: str,
) -> None:
    path = tmp_path / "feed.xml"
    path.write_bytes(content)
    assert main(["feed", "parse", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["feed", "parse", str(tmp_path / "absent.atom")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_a_format_it_cannot_tell_asks_for_the_flag_not_the_config_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "odd.json"  # made here: JSON, but no status-feed shape
    path.write_text('{"hello": "world"}')
    assert main(["feed", "parse", str(path)]) == 2
    err = capsys.readouterr().err
    assert "could not tell the feed format; pass --format NAME (one of: " in err
    assert "statuspage-json" in err and "format:" not in err

"""docs/performance.md's table is made from one full benchmark run, by a script."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import report

RUN = {
    "when": "2026-12-07T13:00:00Z", "machine": "x86_64, 2 cores", "commit": "abc123",
    "full": True,
    "benchmarks": {"scale": [{"benchmark": "scale", "metric": "lost deliveries", "value": 0,
                              "unit": "deliveries", "baseline": None, "ratio": None,
                              "target": "== 0", "ok": "yes", "note": ""}]},
}  # fmt: skip


def test_the_table_between_the_markers_is_replaced_and_the_rest_kept() -> None:
    doc = f"# Performance\n\n{report.BEGIN}\nold numbers\n{report.END}\n\nprose\n"
    out = report.render(doc, RUN, "build/bench/latest.json")
    assert "old numbers" not in out
    assert "| scale | lost deliveries | 0 deliveries |  | == 0 | yes |" in out
    assert "commit `abc123`" in out and "x86_64, 2 cores" in out
    assert out.startswith("# Performance\n") and out.endswith("\n\nprose\n")


def test_a_partial_run_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    partial = tmp_path / "run.json"
    partial.write_text(json.dumps({**RUN, "full": False}))
    assert report.main([str(partial)]) == 1
    assert "not a full run" in capsys.readouterr().err


def test_the_performance_page_has_the_markers() -> None:
    doc = report.DOC.read_text()
    assert report.BEGIN in doc and report.END in doc


def test_a_benchmark_that_failed_is_listed_as_not_completed() -> None:
    failed = {**RUN, "full": False, "failed": {"push": "RuntimeError: push never reached Slack"}}
    out = report.render(f"{report.BEGIN}\n{report.END}", failed, "run.json")
    assert "| push | did not complete in this run: RuntimeError: push never reached" in out


def test_the_table_says_how_fast_the_machine_ran_during_the_run() -> None:
    run = RUN | {"loop_ms": {"fanout": 121.5, "latency": 180.0, "scale": 119.0}}
    out = report.render(f"{report.BEGIN}\n{report.END}\n", run, "build/bench/latest.json")
    assert "a fixed Python loop took 119 to 180 ms" in out

"""Regenerate the measured table of docs/performance.md from one full `make bench` run.

    python -m bench.report [build/bench/latest.json]

Everything between the `<!-- bench:begin -->` and `<!-- bench:end -->` markers is
replaced: where the run was made (machine, commit, date) and one line per result row,
with its baseline, target and verdict as the benchmark reported them. A partial run
(`python -m bench fanout`) or one where a benchmark failed is refused: the page shows
one run, whole, or nothing new; `--with-failures` accepts a run in which some
benchmarks failed, and lists those (and any left out) as not completed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
LATEST = ROOT / "build" / "bench" / "latest.json"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def _num(value: Any) -> str:
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.1f}"
    return str(value)


def _cell(text: Any) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def table(results: dict[str, Any], source: str) -> str:
    head = (f"Measured on {results['machine']}; commit `{results.get('commit', '?')}`; "
            f"{results['when']} (`{source}`, written by `make bench`; this table by "
            "`python -m bench.report`).")  # fmt: skip
    speeds = list(results.get("loop_ms", {}).values())
    if speeds:  # the machine's speed during the run: compare runs made at the same speed
        head += (f" Before each benchmark a fixed Python loop took {min(speeds):g} to "
                 f"{max(speeds):g} ms.")  # fmt: skip
    lines = [head, "", "| Benchmark | Metric | Value | Baseline (ratio) | Target | Met |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for name, rows in results["benchmarks"].items():
        for r in rows:
            if "metric" not in r or "value" not in r:  # a benchmark with its own columns
                first, *rest = r.items()
                cells = ", ".join(f"{k} {_num(v)}" for k, v in rest)
                lines.append(f"| {name} | {_cell(first[1])} | {_cell(cells)} | | | |")
                continue
            base = ""
            if r.get("baseline") is not None:
                base = f"{_num(r['baseline'])} {r['unit']}"
                if r.get("ratio") is not None:
                    base += f" ({r['ratio']}x)"
            value = f"{_num(r['value'])} {r['unit']}"
            note = f" ({r['note']})" if r.get("note") else ""
            lines.append(f"| {name} | {_cell(r['metric'] + note)} | {_cell(value)} | "
                         f"{_cell(base)} | {_cell(r.get('target', ''))} | "
                         f"{_cell(r.get('ok', ''))} |")  # fmt: skip
    failed = results.get("failed", {})
    for name in sorted(_names() - set(results["benchmarks"])):
        why = failed.get(name, "see the run's output")
        lines.append(f"| {name} | did not complete in this run: {_cell(why)} | | | | no |")
    return "\n".join(lines)


def render(doc: str, results: dict[str, Any], source: str) -> str:
    if BEGIN not in doc or END not in doc:
        raise SystemExit(f"{DOC} has no {BEGIN} ... {END} section to fill")
    before, rest = doc.split(BEGIN, 1)
    _, after = rest.split(END, 1)
    return f"{before}{BEGIN}\n{table(results, source)}\n{END}{after}"


def _names() -> set[str]:
    """Every benchmark in bench/."""
    return {p.stem.removeprefix("bench_") for p in Path(__file__).parent.glob("bench_*.py")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report")
    parser.add_argument("results", nargs="?", default=str(LATEST), help="a run's JSON")
    parser.add_argument(
        "--with-failures",
        action="store_true",
        help="accept a run of every benchmark where some failed (they are listed)",
    )
    args = parser.parse_args(argv)
    path = Path(args.results)
    results = json.loads(path.read_text())
    if not results.get("full") and not args.with_failures:
        print(f"{path}: not a full run (some benchmarks were left out or failed); "
              "run `make bench` and try again", file=sys.stderr)  # fmt: skip
        return 1
    source = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    DOC.write_text(render(DOC.read_text(), results, source))
    print(f"wrote {DOC} from {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

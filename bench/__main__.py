"""Run the benchmarks, print one table per benchmark, write bench/results.json."""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import bench

RESULTS = Path(__file__).with_name("results.json")


def _table(rows: list[dict[str, object]]) -> str:
    if not rows:
        return "(no rows)"
    cols = list(dict.fromkeys(k for r in rows for k in r))
    cells = [[_fmt(r.get(c, "")) for c in cols] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths, strict=True))  # noqa: E731
    return "\n".join([line(cols), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("only", nargs="*", help="benchmark names (default: all)")
    args = parser.parse_args()
    names = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )
    if args.only:
        names = [n for n in names if n.removeprefix("bench_") in args.only or n in args.only]
    results: dict[str, object] = {
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": f"{platform.machine()} {platform.python_implementation()} "
        f"{platform.python_version()}",
        "benchmarks": {},
    }
    failed = 0
    for name in names:
        start = time.perf_counter()
        print(f"\n== {name.removeprefix('bench_')}", flush=True)
        try:
            rows = importlib.import_module(f"bench.{name}").run()
        except Exception as exc:  # a broken benchmark must not hide the others
            failed += 1
            print(f"FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        print(_table(rows))
        print(f"({time.perf_counter() - start:.1f}s)")
        results["benchmarks"][name.removeprefix("bench_")] = rows  # type: ignore[index]
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {RESULTS}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

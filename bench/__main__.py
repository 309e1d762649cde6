"""Run the benchmarks, print one table per benchmark, write the results to build/bench/.

Each run writes `build/bench/results-<UTC time>.json` and `build/bench/latest.json`
(untracked: running the benchmarks changes no tracked file), stamped with the machine
(CPU, cores, load average when the run began), the commit (and whether the work tree
had changes) and the date. `python -m bench.report` turns one full run into the table
of docs/performance.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import bench

OUT = Path(__file__).resolve().parent.parent / "build" / "bench"


def _commit() -> str:
    """The commit measured, `+dirty` when the work tree had changes."""
    root = OUT.parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=True).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def _machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in _cpuinfo()
                if line.startswith("model name")), platform.processor() or "?")  # fmt: skip
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{platform.machine()}, {os.cpu_count()} cores ({cpu}), {platform.system()}, "
            f"{platform.python_implementation()} {platform.python_version()}, "
            f"load average {load} at the start")  # fmt: skip


def loop_ms(rounds: int = 2_000_000) -> float:
    """How long a fixed piece of pure-Python work takes now, in ms. Timed before each
    benchmark: these machines' speed moves by a third from hour to hour (a physical core
    shared with others), and a figure compares only with one taken at the same speed."""
    start = time.perf_counter()
    total = 0
    for i in range(rounds):
        total += i
    return round((time.perf_counter() - start) * 1000, 1)


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


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
    when = datetime.now(UTC)
    results: dict[str, object] = {
        "when": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": _machine(),
        "commit": _commit(),
        "full": not args.only,  # every benchmark ran: docs/performance.md may be made from it
        "benchmarks": {},
        "loop_ms": {},  # the machine's speed before each benchmark (`loop_ms`)
    }
    failed = 0
    for name in names:
        speed = loop_ms()
        results["loop_ms"][name.removeprefix("bench_")] = speed  # type: ignore[index]
        start = time.perf_counter()
        print(f"\n== {name.removeprefix('bench_')} (a fixed loop took {speed} ms)", flush=True)
        try:
            rows = importlib.import_module(f"bench.{name}").run()
        except Exception as exc:  # a broken benchmark must not hide the others
            failed += 1
            print(f"FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
            first = str(exc).splitlines()[0] if str(exc) else ""
            results.setdefault("failed", {})[name.removeprefix("bench_")] = (  # type: ignore[union-attr]
                f"{type(exc).__name__}: {first}"[:300]
            )
            continue
        print(_table(rows))
        print(f"({time.perf_counter() - start:.1f}s)")
        results["benchmarks"][name.removeprefix("bench_")] = rows  # type: ignore[index]
    results["full"] = results["full"] and not failed
    OUT.mkdir(parents=True, exist_ok=True)
    body = json.dumps(results, indent=2) + "\n"
    stamped = OUT / f"results-{when.strftime('%Y%m%dT%H%M%SZ')}.json"
    stamped.write_text(body)
    (OUT / "latest.json").write_text(body)
    print(f"\nwrote {stamped} and {OUT / 'latest.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

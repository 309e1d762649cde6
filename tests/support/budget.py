"""The suite's CPU budget, printed at the end of a run: the CPU seconds each group of
tests (a directory under tests/, or a module of tests/<dir>/ when `--budget-by=module`)
spent, its own and that of the processes it started and waited for (served services,
`python -m notifier` commands), with its wall seconds. `make test` runs on two cores, so
the suite cannot end sooner than its CPU seconds over two: the table shows where they go.

Each test measures itself (setup to teardown, module fixtures in the test that tore
them down) and carries the figures on its teardown report, which pytest-xdist brings
to the controller. A plugin of tests/conftest.py."""

from __future__ import annotations

import resource
import time
from collections import defaultdict
from collections.abc import Generator
from typing import Any

import pytest

from tests.support import cli

_STARTED = pytest.StashKey[tuple[float, float]]()
_CPU, _WALL = "budget_cpu_s", "budget_wall_s"
SHOWN = 12


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    forked = cli.forked_cpu()  # commands forked by the zygote are not our children
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime + forked


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--budget-by", choices=("dir", "module"), default="dir",
                     help="group the CPU budget by tests/<dir> or by module")  # fmt: skip


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_STARTED] = (_cpu(), time.monotonic())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    started = item.stash.get(_STARTED, None)
    if call.when == "teardown" and started is not None:
        cpu, wall = started
        report.user_properties += [(_CPU, _cpu() - cpu), (_WALL, time.monotonic() - wall)]
    return report


def group_of(nodeid: str, by: str) -> str:
    path = nodeid.split("::", 1)[0].split("@", 1)[0]
    parts = path.split("/")
    return "/".join(parts[:2]) if by == "dir" and len(parts) > 2 else path


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    cpu: dict[str, float] = defaultdict(float)
    wall: dict[str, float] = defaultdict(float)
    by = config.getoption("--budget-by")
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) != "teardown":
                continue
            figures = dict(tuple(p) for p in report.user_properties)  # xdist sends lists
            if _CPU in figures:
                group = group_of(report.nodeid, by)
                cpu[group] += figures[_CPU]
                wall[group] += figures[_WALL]
    if not cpu:
        return
    total = sum(cpu.values())
    terminalreporter.write_sep("=", f"CPU budget: {total:.0f} CPU-s in tests, by {by}")
    for group in sorted(cpu, key=cpu.__getitem__, reverse=True)[:SHOWN]:
        terminalreporter.write_line(f"{cpu[group]:8.1f} CPU-s {wall[group]:8.1f} wall-s  {group}")

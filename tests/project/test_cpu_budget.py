"""The CPU budget `make test` prints (tests/support/budget.py) counts what a test's
processes spent, not only the test's own process, and groups it by directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.budget import group_of

ROOT = Path(__file__).resolve().parents[2]

BURNS = """
import subprocess, sys
from pathlib import Path

CHILD = "import time; sum(range(50_000_000)); print(time.process_time())"

def test_burns_in_a_child():
    done = subprocess.run([sys.executable, "-c", CHILD], check=True, capture_output=True)
    (Path(__file__).parent / "child_cpu").write_bytes(done.stdout)

def test_idle():
    pass
"""


def test_a_group_is_a_directory_of_tests_or_a_module() -> None:
    nodeid = "tests/e2e/test_x.py::test_y[a/b]@e2e-group"
    assert group_of(nodeid, "dir") == "tests/e2e"
    assert group_of(nodeid, "module") == "tests/e2e/test_x.py"


def test_the_budget_counts_the_cpu_of_the_processes_a_test_ran(tmp_path: Path) -> None:
    (tmp_path / "test_burns.py").write_text(BURNS)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-p", "tests.support.budget", "--budget-by=module", "-n", "0", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    [line] = [li for li in done.stdout.splitlines() if li.endswith("test_burns.py")]
    child = float((tmp_path / "child_cpu").read_text())  # the test process never ran it
    assert child > 0.1
    assert float(line.split()[0]) >= round(child, 1), (line, child)
    assert "CPU budget:" in done.stdout

"""No test sleeps a fixed time to wait for the code under test (docs/development.md).

A sleep in tests/ is one of two things: a step of a loop that waits for a condition with
a deadline, or a deliberate delay that is part of the scene (a fake vendor answering
slowly, a Redis stalled on purpose, a delivery that takes time), listed below with its
reason. A bare sleep anywhere else is a wait the test hopes is long enough: on a busy
machine it is not, on an idle one it is time lost.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]

# (file under tests/, enclosing function): why its sleep is the scene, not a wait.
STAGED = {
    (
        "chaos/test_redis_faults.py",
        "test_redis_paused_past_every_client_timeout_costs_no_process",
    ): "the fault: Redis stalled (DEBUG SLEEP) past every client's timeout",
    (
        "chaos/test_redis_faults.py",
        "test_after_a_redis_outage_the_workers_consume_again_within_two_seconds",
    ): "the fault: Redis down for as long as kombu's default back-off takes to grow",
    ("cli/test_status_command.py", "do_GET"): "a feed that answers after the fetcher gave up",
    ("feeds/test_feeds_fetch.py", "route_slow"): "a feed slower than the fetcher's timeout",
    ("support/push_kit.py", "_answer"): "a webhook receiver that hangs past the timeout",
    ("pipeline/test_parallel_sending.py", "deliver"): "a delivery that takes time, in a thread",
}


def _sleeps(tree: ast.AST) -> list[tuple[ast.Call, list[ast.AST]]]:
    """Each `*.sleep(...)` call with the nodes that enclose it, innermost first."""
    found: list[tuple[ast.Call, list[ast.AST]]] = []

    def visit(node: ast.AST, enclosing: list[ast.AST]) -> None:
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "sleep"):  # fmt: skip
            found.append((node, enclosing))
        for child in ast.iter_child_nodes(node):
            visit(child, [node, *enclosing])

    visit(tree, [])
    return found


def _functions(enclosing: list[ast.AST]) -> list[str]:
    """The names of the functions around a node, innermost first."""
    return [n.name for n in enclosing if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]


def fixed_waits() -> list[str]:
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        where = path.relative_to(TESTS).as_posix()
        for call, enclosing in _sleeps(ast.parse(path.read_text(encoding="utf-8"))):
            if any(isinstance(n, (ast.While, ast.For)) for n in enclosing):
                continue  # a step of a wait for a condition
            function = next(iter(_functions(enclosing)), "")
            if (where, function) not in STAGED:
                found.append(f"{where}:{call.lineno} in {function}(): {ast.unparse(call)}")
    return found


def test_no_test_sleeps_a_fixed_time_to_wait() -> None:
    assert fixed_waits() == []


def test_the_check_finds_a_bare_sleep() -> None:
    tree = ast.parse("def test_x():\n    start()\n    time.sleep(2)\n    check()\n"
                     "def test_y():\n    while not done():\n        time.sleep(0.1)\n")  # fmt: skip
    bare = [c.lineno for c, enc in _sleeps(tree)
            if not any(isinstance(n, (ast.While, ast.For)) for n in enc)]  # fmt: skip
    assert bare == [3]


def test_every_staged_delay_is_still_there() -> None:
    present = set()
    for path in sorted(TESTS.rglob("*.py")):
        where = path.relative_to(TESTS).as_posix()
        for _, enclosing in _sleeps(ast.parse(path.read_text(encoding="utf-8"))):
            present |= {(where, name) for name in _functions(enclosing)}
    assert set(STAGED) <= present, set(STAGED) - present

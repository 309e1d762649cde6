"""The command reference's exit status table (docs/commands.md) holds: each row's command
runs, as written, as a real `notifier` process (`tests.support.cli`), in the case its "when" column
names, and exits as the table says. A case the test does not know fails the test, so the
table cannot grow rows nobody checks."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import run_notifier

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "commands.md"
ROW = re.compile(r"^\| `notifier ([^`]*)` \| ([^|]+?) \| (\d) \|$", re.MULTILINE)


@dataclass(frozen=True)
class Row:
    argv: tuple[str, ...]
    when: str
    exits: int

    def __str__(self) -> str:
        return f"notifier {' '.join(self.argv)} [{self.when}]"


def rows() -> list[Row]:
    table = PAGE.read_text(encoding="utf-8").split("## Exit status", 1)[1].split("\n## ", 1)[0]
    return [Row(tuple(shlex.split(m[1])), m[2], int(m[3])) for m in ROW.finditer(table)]


@dataclass
class Case:
    """Where a command runs: its working directory and environment."""

    cwd: Path
    env: dict[str, str]


@pytest.fixture
def nothing_listens() -> Iterator[int]:
    with socket.socket() as sock:  # bound, never listening: every connection is refused
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def _good_file(case: Case) -> None:
    (case.cwd / "config").mkdir(exist_ok=True)
    shutil.copy(ROOT / "config" / "subscriptions.example.yaml",
                case.cwd / "config" / "subscriptions.yaml")  # fmt: skip


def _file_with_an_error(case: Case) -> None:
    bad = case.cwd / "bad.yaml"
    bad.write_text("providers:\n  - id: openai\n    poll_intervall: 30\nsubscribers: []\n")
    case.env["NOTIFIER_CONFIG"] = str(bad)


def _cases(redis_url: str, key_prefix: str, refused: int) -> dict[str, Callable[[Case], None]]:
    def answers(case: Case) -> None:
        _good_file(case)
        case.env |= {"NOTIFIER_REDIS_URL": redis_url, "NOTIFIER_KEY_PREFIX": key_prefix}

    def nothing_answers(case: Case) -> None:
        _good_file(case)
        case.env["NOTIFIER_REDIS_URL"] = f"redis://127.0.0.1:{refused}/0"

    return {
        "always": _good_file,
        "no subscription file": lambda case: None,
        "a good subscription file": _good_file,
        "a subscription file with an error": _file_with_an_error,
        "Redis answers, no service runs": answers,
        "nothing answers at NOTIFIER_REDIS_URL": nothing_answers,
        "no Redis is set and none runs": _good_file,
    }


def test_the_table_has_rows_for_every_status() -> None:
    found = rows()
    assert len(found) >= 30
    assert {r.exits for r in found} == {0, 1, 2}


@pytest.mark.parametrize("row", rows(), ids=str)
def test_the_command_exits_as_the_reference_says(
    row: Row, tmp_path: Path, redis_url: str, key_prefix: str, nothing_listens: int
) -> None:
    cases = _cases(redis_url, key_prefix, nothing_listens)
    assert row.when in cases, f"{row}: a case this test does not know; teach it, or reword"
    base = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    case = Case(tmp_path / "here", base | {
        "PYTHONPATH": str(ROOT),
        "NOTIFIER_DATA_DIR": str(tmp_path / "data"),
        "NOTIFIER_WEB_PORT": "0",
        "NOTIFIER_LOG_LEVEL": "WARNING",
    })  # fmt: skip
    case.cwd.mkdir()
    cases[row.when](case)
    done = run_notifier(row.argv, cwd=case.cwd, env=case.env, timeout=120)
    output = f"{done.stdout[-1500:]}\n{done.stderr[-1500:]}"
    assert "Traceback" not in done.stderr, output
    assert done.returncode == row.exits, f"{row}\n{output}"

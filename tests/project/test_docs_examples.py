"""Every `notifier` command shown in README.md and docs/*.md runs, and exits as the page says.

A command is a line of a ```console block that starts `$ notifier` (or `$ NAME=value notifier`),
or a line of a ```sh block that starts `notifier`. Two trailing comments change what is
expected: `# exits N` (the exit status the page documents) and `# long-running` (a command
that runs until stopped; only `run`, `worker`, `beat` and `web` may say so, and those are not
started). Each command runs as a real `notifier` process (`tests.support.cli`), in a copy of
the shipped `config/` and `examples/` where the README's first step (copy the example
subscription file to config/subscriptions.yaml) has been done, against this session's own Redis.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from notifier.cli import build_parser
from tests.support.cli import run_notifier

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([\w-]*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
ENV_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")
EXITS = re.compile(r"#\s*exits\s+(\d+)\b")
LONG_RUNNING = re.compile(r"#\s*long-running\b")
SHELL_BLOCKS = {"sh", "console"}
# The commands that run until stopped; nothing else may be marked long-running.
SERVICES = {"run", "worker", "beat", "web"}


def subcommands() -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(sub.choices)


@dataclass(frozen=True)
class Example:
    where: str  # file:line
    argv: tuple[str, ...]  # after `notifier`
    env: dict[str, str] = field(default_factory=dict)
    exits: int = 0
    long_running: bool = False

    def __str__(self) -> str:
        return f"{self.where} notifier {' '.join(self.argv)}"


def _command(line: str) -> tuple[dict[str, str], list[str]] | None:
    """(environment, argv after `notifier`) when the line runs notifier, else None."""
    words = shlex.split(line, comments=True)
    env: dict[str, str] = {}
    while words and ENV_ASSIGNMENT.match(words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    if not words or words[0] != "notifier":
        return None
    return env, words[1:]


def _blocks(page: Path) -> list[tuple[str, int, list[str]]]:
    """(language, line number of the block's first line, lines) of every fenced block."""
    text = page.read_text(encoding="utf-8")
    out = []
    for m in FENCE.finditer(text):
        first = text.count("\n", 0, m.start(2)) + 1
        out.append((m.group(1), first, m.group(2).splitlines()))
    return out


def collect(pages: list[Path] = PAGES) -> tuple[list[Example], list[str]]:
    """The examples, and the problems: a command outside a shell block, an unknown command."""
    examples: list[Example] = []
    problems: list[str] = []
    for page in pages:
        for lang, first, lines in _blocks(page):
            for i, raw in enumerate(lines):
                where = f"{page.relative_to(ROOT)}:{first + i}"
                line = raw.strip()
                if lang == "console":
                    if not line.startswith("$ "):
                        continue  # output
                    line = line[2:]
                parsed = _command(line) if lang in SHELL_BLOCKS else None
                if lang not in SHELL_BLOCKS:
                    words = line.lstrip("$ ").split()
                    if words[:1] == ["notifier"] and words[1:2] and words[1] in subcommands():
                        problems.append(f"{where}: a command in a ```{lang} block: {line}")
                    continue
                if parsed is None:
                    continue
                env, argv = parsed
                exits = EXITS.search(raw)
                examples.append(
                    Example(
                        where,
                        tuple(argv),
                        env,
                        int(exits.group(1)) if exits else 0,
                        bool(LONG_RUNNING.search(raw)),
                    )
                )
    known = subcommands()
    for ex in examples:
        if not ex.argv or ex.argv[0] not in known:
            problems.append(f"{ex}: no such command")
        if ex.long_running and ex.argv[0] not in SERVICES:
            problems.append(f"{ex}: only {sorted(SERVICES)} may be marked long-running")
    return examples, problems


EXAMPLES, PROBLEMS = collect()
RUNNABLE = [ex for ex in EXAMPLES if not ex.long_running]


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working directory like a fresh checkout after the README's copy step."""
    root = tmp_path_factory.mktemp("docs-examples")
    shutil.copytree(ROOT / "config", root / "config")
    shutil.copytree(ROOT / "examples", root / "examples")
    (root / "config" / "subscriptions.yaml").unlink(missing_ok=True)  # a developer's own file
    config = root / "config"
    shutil.copy(config / "subscriptions.example.yaml", config / "subscriptions.yaml")
    return root


def test_the_pages_show_commands_to_run() -> None:
    # Guards the extractor: it must find the README's commands and a good number in all.
    assert any(ex.where.startswith("README.md") for ex in RUNNABLE)
    assert len(RUNNABLE) >= 10, [str(e) for e in RUNNABLE]


def test_every_command_shown_is_in_a_shell_block_and_exists() -> None:
    assert PROBLEMS == []


def test_few_commands_are_left_unrun() -> None:
    unrun = [str(ex) for ex in EXAMPLES if ex.long_running]
    assert len(unrun) <= 3, unrun


@pytest.mark.parametrize("example", RUNNABLE, ids=str)
def test_the_command_exits_as_documented(
    example: Example, sandbox: Path, redis_url: str, key_prefix: str
) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env = base | {
        "PYTHONPATH": str(ROOT),
        "NOTIFIER_REDIS_URL": redis_url,
        "NOTIFIER_KEY_PREFIX": key_prefix,
        "NOTIFIER_DATA_DIR": str(sandbox / ".notifier"),
    }
    done = run_notifier(example.argv, cwd=sandbox, env=env | example.env, timeout=120)
    output = f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    assert done.returncode == example.exits, f"{example}\n{output}"

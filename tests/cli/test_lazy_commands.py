"""A command imports only what it runs: `notifier.cli.COMMANDS` names each command's
module and help, so `notifier --help` lists every command without importing one, and
`notifier status` imports no history database or web server. Most of a command's start
is import time, and the tests start commands as processes by the dozen."""

from __future__ import annotations

import argparse
import json
import pkgutil
import subprocess
import sys

import pytest

import notifier.cli
from notifier.cli import COMMANDS, build_parser

# What `notifier --help` and `--version` need: argparse. None of these.
HEAVY = ("celery", "sqlalchemy", "pydantic_settings", "slack_sdk", "twilio", "uvicorn",
         "starlette", "jinja2", "feedparser", "redis", "yaml", "httpx")  # fmt: skip


def _loaded_by(argv: list[str]) -> set[str]:
    """The modules a fresh interpreter has loaded after `notifier <argv>` ran."""
    script = (
        "import json, sys\n"
        "from notifier.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)  # fmt: skip
    return set(json.loads(done.stderr.splitlines()[-1]))


def _subparsers(
    parser: argparse.ArgumentParser,
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def test_the_help_lists_every_command_as_its_own_module_describes_it() -> None:
    # The table's help against the modules' own parsers: the two cannot drift apart.
    assert build_parser(real=()).format_help() == build_parser().format_help()
    assert list(_subparsers(build_parser()).choices) == list(COMMANDS)


def test_every_command_module_is_in_the_table() -> None:
    modules = {m.name for m in pkgutil.iter_modules(notifier.cli.__path__)}
    assert {c.module for c in COMMANDS.values()} == {m for m in modules if not m.startswith("_")}


def test_a_command_alone_parses_as_it_does_among_all() -> None:
    for name in COMMANDS:
        alone = _subparsers(build_parser(real=[name])).choices[name]
        among_all = _subparsers(build_parser()).choices[name]
        assert alone.format_help() == among_all.format_help(), name


@pytest.mark.parametrize("argv", [["--help"], ["--version"]], ids=" ".join)
def test_the_help_and_the_version_import_no_command(argv: list[str]) -> None:
    loaded = _loaded_by(argv)
    assert sorted(m for m in loaded if m.startswith("notifier.cli.")) == ["notifier.cli._shared"]
    assert [m for m in HEAVY if m in loaded] == []


def test_a_command_imports_its_own_module_and_not_the_others() -> None:
    loaded = _loaded_by(["init", "--help"])
    assert "notifier.cli.init" in loaded
    assert [m for m in HEAVY if m in loaded] == ["pydantic_settings"]  # the default file's name
    loaded = _loaded_by(["status", "--help"])
    assert "notifier.cli.status" in loaded and "notifier.cli.history" not in loaded
    assert not {"sqlalchemy", "celery", "starlette", "uvicorn"} & loaded

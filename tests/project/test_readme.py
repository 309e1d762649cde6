"""README.md is the user's manual: it must name every setting and every command."""

from __future__ import annotations

import argparse
from pathlib import Path

from notifier.cli import build_parser
from notifier.config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
# User documentation written next to a change, waiting to be folded into the manual.
NOTES = "\n".join(p.read_text() for p in sorted((ROOT / "docs" / "notes").glob("*.md")))


def test_every_setting_is_documented() -> None:
    missing = [n for n in Settings.model_fields if f"NOTIFIER_{n.upper()}" not in README]
    assert missing == []


def test_every_command_is_documented() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    manual = README + NOTES
    missing = [name for name in sub.choices if f"notifier {name}" not in manual]
    assert missing == []


def test_it_documents_the_two_commands_first() -> None:
    quick_start = README.index("## Quick start")
    assert README.index("make run") > quick_start
    assert README.index("make test") > quick_start
    assert quick_start < README.index("## Configuration")

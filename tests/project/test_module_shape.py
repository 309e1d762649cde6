"""The shape issue 24 fixed, held: small modules, one name per class, and channel names
known only to the channels (`notifier/channels`), so a new channel is one sub-package."""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "notifier"
MAX_LINES = 450
CHANNELS = "slack|sms|email|console|webhook|pagerduty|opsgenie|apprise"
# A comparison with a channel's name, or a reach into a subscriber's per-channel field.
NAME_TEST = re.compile(
    rf"""(==|!=)\s*["']({CHANNELS})["']|["']({CHANNELS})["']\s*(==|!=)"""
    rf"""|\bin\s*[(\[{{][^)\]}}]*["']({CHANNELS})["']|case\s+["']({CHANNELS})["']"""
    rf"""|\bsub(scriber)?\.({CHANNELS})\b"""
)


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _outside_channels(path: Path) -> bool:
    rel = path.relative_to(PACKAGE).as_posix()
    # The subscriber model declares each channel's block; that is a declaration, not a test.
    return not rel.startswith("channels/") and not rel.startswith("config/schema")


def test_no_module_is_over_450_lines() -> None:
    long = {
        p.relative_to(PACKAGE).as_posix(): n
        for p in _modules()
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_no_two_classes_share_a_name() -> None:
    where: dict[str, list[str]] = defaultdict(list)
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                where[node.name].append(path.relative_to(PACKAGE).as_posix())
    assert {name: paths for name, paths in where.items() if len(paths) > 1} == {}


def test_only_the_channels_compare_channel_names() -> None:
    found = [
        f"{path.relative_to(PACKAGE).as_posix()}:{number}: {line.strip()}"
        for path in _modules()
        if _outside_channels(path)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if NAME_TEST.search(line)
    ]
    assert found == []


def test_the_checks_see_what_they_look_for() -> None:
    # Without this, a pattern broken by an edit would pass every tree.
    assert NAME_TEST.search('if channel == "slack":')
    assert NAME_TEST.search("if sub.sms is not None:")
    assert NAME_TEST.search('kinds = channel in ("slack", "sms")')
    assert not NAME_TEST.search('label = "slack thread"')

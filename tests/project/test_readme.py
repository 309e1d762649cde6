"""README.md is what a newcomer reads in five minutes: what it is, the two commands, where the
`notifier` command is, a configuration that works, and the way into the docs. The facts that
moved to docs/ are tested there (test_config_reference, test_docs_site, test_docs_examples)."""

from __future__ import annotations

import re
from pathlib import Path

from notifier.channels.reach import ChannelReach
from notifier.config.load import check_config
from notifier.config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_it_is_short() -> None:
    assert len(README.splitlines()) < 200


def test_it_documents_the_two_commands_first() -> None:
    quick_start = README.index("## Quick start")
    assert README.index("make run") > quick_start
    assert README.index("make test") > quick_start
    assert quick_start < README.index("## A ten-line configuration")
    assert quick_start < README.index("## Documentation")


def test_it_says_where_the_notifier_command_is() -> None:
    assert ".venv/bin/notifier" in README
    assert "source .venv/bin/activate" in README


def test_its_ten_line_configuration_is_valid(tmp_path: Path) -> None:
    section = README[README.index("## A ten-line configuration") :]
    block = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert block is not None
    assert len(block.group(1).splitlines()) <= 10
    path = tmp_path / "subscriptions.yaml"
    path.write_text(block.group(1))
    report = check_config(path, reach=ChannelReach(Settings(_env_file=None)))
    assert report.errors == []
    assert report.config is not None and len(report.config.subscribers) == 1


def test_every_link_into_the_docs_resolves() -> None:
    links = re.findall(r"\]\((docs/[^)#]+)(?:#[^)]*)?\)", README)
    assert links, "the README links into the docs"
    assert [link for link in links if not (ROOT / link).is_file()] == []

"""The documentation site builds offline and strictly, leaves its build hooks out, and its
pages keep the facts the README used to carry: every command in the command reference."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from notifier.cli import build_parser
from tests.project.docs_hooks import load_hook

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def test_every_command_is_in_the_command_reference() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    page = (DOCS / "commands.md").read_text()
    reference = page[page.index("## Commands") :]
    missing = [name for name in sub.choices if f"`notifier {name}" not in reference]
    assert missing == []
    exits = page[page.index("## Exit status") : page.index("## Commands")]
    unchecked = [name for name in sub.choices if f"| `notifier {name}" not in exits]
    assert unchecked == [], "every command needs a row in the exit status table"


def test_the_nav_lists_every_page_in_reading_order() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    nav = [next(iter(item.values())) for item in config["nav"]]
    assert sorted(nav) == sorted(p.name for p in DOCS.glob("*.md"))
    assert nav[0] == "index.md" and nav.index("configuration.md") < nav.index("operations.md")
    assert config["theme"]["font"] is False  # no Google Fonts: the build and the site are offline


def test_the_home_page_is_the_readme_with_links_inside_the_site() -> None:
    hook = load_hook("readme_home")
    home = hook.on_page_markdown((DOCS / "index.md").read_text())
    assert home.startswith("# notifier")
    assert "](docs/" not in home and "](channels.md)" in home


def test_the_site_builds_strictly_offline_without_its_hooks(tmp_path: Path) -> None:
    # A copy, so the build writes nothing into the work tree.
    work = tmp_path / "repo"
    work.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", work)
    shutil.copy(ROOT / "README.md", work)
    shutil.copytree(DOCS, work / "docs", ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env |= {"PYTHONPATH": str(ROOT), "NO_MKDOCS_2_WARNING": "1"}
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=work, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (site / "hooks").exists()
    reference = (site / "config-reference" / "index.html").read_text()
    assert "NOTIFIER_VISIBILITY_TIMEOUT" in reference and "schema-quiethours" in reference
    assert "<!-- config-reference" not in reference
    for page in site.rglob("*.html"):
        assert "fonts.googleapis.com" not in page.read_text(), page

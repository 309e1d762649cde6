"""Debian's Chromium driven by Playwright for Python (never Playwright's own browser
download: it cannot work here). Tests that need it skip, saying why, when either is
missing."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("NOTIFIER_TEST_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium")):  # fmt: skip
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@contextmanager
def chromium() -> Iterator[Any]:
    """A launched browser; skips the test when Chromium or Playwright is missing."""
    path = chromium_path()
    if path is None:
        pytest.skip("no Chromium found at /usr/bin/chromium (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()

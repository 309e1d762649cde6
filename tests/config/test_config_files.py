"""Every file in config/testdata/: good ones load, bad ones fail with exactly the
errors their `# expect:` header lines list (line, path and message prefix)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from notifier.config.load import ConfigError, load_config
from tests.planning_helpers import test_catalog

TESTDATA = Path(__file__).resolve().parents[2] / "config" / "testdata"
EXPECT = re.compile(r"^# expect: (.*)$", re.MULTILINE)


def _files(kind: str) -> list[Path]:
    return sorted((TESTDATA / kind).glob("*.yaml"))


@pytest.mark.parametrize("path", _files("good"), ids=lambda p: p.name)
def test_good_files_load(path: Path) -> None:
    config = load_config(path, test_catalog())
    for provider in config.resolved_providers():
        assert provider.url.startswith("https://")


@pytest.mark.parametrize("path", _files("bad"), ids=lambda p: p.name)
def test_bad_files_report_each_problem_at_its_line(path: Path) -> None:
    expected = sorted(EXPECT.findall(path.read_text()))
    assert expected, f"{path.name} declares no '# expect:' lines"
    with pytest.raises(ConfigError) as caught:
        load_config(path, test_catalog())
    got = sorted(caught.value.errors)
    assert len(got) == len(expected), "\n".join(got)
    unmatched = [e for e in expected if not any(g.startswith(f"{path.name}:{e}") for g in got)]
    assert not unmatched, "missing:\n" + "\n".join(unmatched) + "\ngot:\n" + "\n".join(got)
    assert str(caught.value) == "\n".join(caught.value.errors)

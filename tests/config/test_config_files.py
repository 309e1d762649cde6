"""Every file in config/testdata/: good ones load, with exactly the warnings their
`# warn:` header lines list; bad ones fail with exactly the errors their `# expect:`
lines list (line, path and message prefix), in line order, each line short.
`# env: NOTIFIER_X=value` lines give the settings (channel credentials) to check with."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from notifier.channels.reach import ChannelReach
from notifier.config.load import MAX_LINE, ConfigError, check_config, load_config
from notifier.config.settings import Settings
from tests.planning_helpers import test_catalog

TESTDATA = Path(__file__).resolve().parents[2] / "config" / "testdata"
EXPECT = re.compile(r"^# expect: (.*)$", re.MULTILINE)
WARN = re.compile(r"^# warn: (.*)$", re.MULTILINE)
ENV = re.compile(r"^# env: NOTIFIER_(\w+)=(.*)$", re.MULTILINE)
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
CREDENTIALS = ("slack_token", "slack_webhook_url", "twilio_account_sid", "twilio_auth_token")
CREDENTIALS += ("twilio_from", "smtp_host")


def _files(kind: str) -> list[Path]:
    return sorted((TESTDATA / kind).glob("*.yaml"))


def _settings(text: str) -> Settings:
    """Only what the file's `# env:` lines set: nothing leaks in from this machine."""
    given = {name.lower(): value for name, value in ENV.findall(text)}
    return Settings(_env_file=None, **{**dict.fromkeys(CREDENTIALS), **given})  # type: ignore[arg-type]


def _line(finding: str) -> int:
    return int(finding.split(":")[1])


def _assert_matches(name: str, expected: list[str], got: list[str]) -> None:
    assert len(got) == len(expected), "\n".join(got)
    unmatched = [e for e in expected if not any(g.startswith(f"{name}:{e}") for g in got)]
    assert not unmatched, "missing:\n" + "\n".join(unmatched) + "\ngot:\n" + "\n".join(got)
    assert [_line(g) for g in got] == sorted(_line(g) for g in got), "not in line order"
    assert all(len(g) <= MAX_LINE for g in got), "\n".join(g for g in got if len(g) > MAX_LINE)


@pytest.mark.parametrize("path", _files("good"), ids=lambda p: p.name)
def test_good_files_load_with_exactly_their_warnings(path: Path) -> None:
    config = load_config(path, test_catalog())
    for provider in config.resolved_providers():
        assert provider.url.startswith("https://")
    text = path.read_text()
    report = check_config(path, test_catalog(), ChannelReach(_settings(text)), NOW)
    assert report.config is not None and not report.errors
    _assert_matches(path.name, WARN.findall(text), report.warnings)


@pytest.mark.parametrize("path", _files("bad"), ids=lambda p: p.name)
def test_bad_files_report_each_problem_at_its_line(path: Path) -> None:
    expected = EXPECT.findall(path.read_text())
    assert expected, f"{path.name} declares no '# expect:' lines"
    with pytest.raises(ConfigError) as caught:
        load_config(path, test_catalog())
    _assert_matches(path.name, expected, caught.value.errors)
    assert str(caught.value) == "\n".join(caught.value.errors)

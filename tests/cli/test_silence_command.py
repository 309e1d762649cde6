"""`notifier silence add|list|expire` against a real Redis, as a user types them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from notifier.cli.silence import parse_matchers
from tests.support.cli import run_notifier

ROOT = Path(__file__).resolve().parents[2]
CONFIG = """
providers:
  - id: openai
subscribers:
  - name: support-bot-team
    slack: {channel: "#support"}
"""


def _notifier(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_notifier(args, env=env)


@pytest.fixture
def env(redis_url: str, key_prefix: str, tmp_path: Path, redis_client: object) -> dict[str, str]:
    config = tmp_path / "subscriptions.yaml"
    config.write_text(CONFIG)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    return clean | {"NOTIFIER_REDIS_URL": redis_url, "NOTIFIER_KEY_PREFIX": key_prefix,
                    "NOTIFIER_DATA_DIR": str(tmp_path), "NOTIFIER_CONFIG": str(config)}  # fmt: skip


def test_add_list_and_expire_a_silence(env: dict[str, str]) -> None:
    added = _notifier(env, "silence", "add", "provider=openai", "component=ChatGPT",
                      "subscriber=support-bot-team", "--for", "2h",
                      "--reason", "known, tracked in INC-42", "--by", "ana")  # fmt: skip
    assert added.returncode == 0, added.stderr
    silence_id = added.stdout.strip()
    assert len(silence_id) == 8
    assert "provider=openai component=ChatGPT subscriber=support-bot-team (up to minor)" in (
        added.stderr
    )
    listed = _notifier(env, "silence", "list")
    line = next(x for x in listed.stdout.splitlines() if x.startswith(silence_id))
    assert "active" in line and "ana" in line and "known, tracked in INC-42" in line
    expired = _notifier(env, "silence", "expire", silence_id)
    assert expired.returncode == 0 and f"expired {silence_id}" in expired.stdout
    record = json.loads(_notifier(env, "silence", "list", "--json").stdout)
    assert (record["id"], record["active"]) == (silence_id, False)  # kept for the record
    assert _notifier(env, "silence", "expire", "deadbeef").returncode == 1


def test_a_typo_in_a_name_is_refused_with_a_suggestion(env: dict[str, str]) -> None:
    done = _notifier(env, "silence", "add", "provider=opnai", "--for", "1h", "--reason", "x")
    assert done.returncode == 1
    assert "no provider 'opnai' in the subscription file; did you mean 'openai'?" in done.stderr
    done = _notifier(env, "silence", "add", "provider=openai", "--for", "soon", "--reason", "x")
    assert done.returncode == 1 and "not a duration" in done.stderr


@pytest.mark.parametrize(
    ("items", "problem"),
    [(["component=x"], "needs provider"), (["provider"], "not KEY=VALUE"),
     (["provider=a", "region=x"], "unknown matcher"),
     (["provider=a", "provider=b"], "given twice")],
)  # fmt: skip
def test_matchers_that_are_not_usable_are_refused(items: list[str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_matchers(items)

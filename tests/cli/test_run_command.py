"""`notifier run` refuses a broken subscription file up front, with file:line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_it_refuses_to_start_with_a_typo_in_the_config(tmp_path: Path) -> None:
    bad = tmp_path / "subscriptions.yaml"
    bad.write_text(
        "providers:\n  - id: openai\n    pol_interval: 5\n"
        "subscribers:\n  - name: a\n    slack: {chanel: '#x'}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env |= {"NOTIFIER_CONFIG": str(bad), "NOTIFIER_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, "-m", "notifier", "run"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "subscriptions.yaml:3: providers[0].pol_interval: unknown key" in done.stderr
    assert "subscriptions.yaml:6: subscribers[0].slack.chanel: unknown key" in done.stderr
    assert not (tmp_path / "data").exists()  # nothing was started

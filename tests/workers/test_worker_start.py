"""What a worker's main process loads before its pool forks, so that no pool process
loads it on the path of a page (a fresh process: what is imported is the point)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# twilio-python imports its Messages resource at a client's first `messages`.
LAZY = "twilio.rest.api.v2010.account.message"


def _loaded_at_start(tmp_path: Path, redis_url: str, prefix: str, **settings: str) -> bool:
    config = tmp_path / "subscriptions.yaml"
    config.write_text(
        "providers:\n  - id: acme\n    name: Acme\n"
        '    feed: {url: "https://status.acme.test/api/v2/summary.json", format: statuspage-json}\n'
        "subscribers:\n  - name: ops\n    sms: {to: ['+15005550006']}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env.update(NOTIFIER_CONFIG=str(config), NOTIFIER_DATA_DIR=str(tmp_path),
               NOTIFIER_REDIS_URL=redis_url, NOTIFIER_KEY_PREFIX=prefix, **settings)  # fmt: skip
    code = (
        "import sys, workers.app as app\n"
        f"before = {LAZY!r} in sys.modules\n"
        "app._load_at_worker_start(sender='celery@test')\n"
        f"print(before, {LAZY!r} in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60, check=True)  # fmt: skip
    before, after = out.stdout.split()
    assert before == "False", "imported before the worker started: the check proves nothing"
    return after == "True"


@pytest.mark.parametrize("configured", [True, False], ids=["twilio", "no-twilio"])
def test_a_worker_loads_the_sms_client_before_its_pool_forks_when_twilio_is_configured(
    tmp_path: Path, redis_url: str, key_prefix: str, configured: bool
) -> None:
    twilio = {
        "NOTIFIER_TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "NOTIFIER_TWILIO_AUTH_TOKEN": "test-token-not-real",
        "NOTIFIER_TWILIO_FROM": "+15005550006",
    }
    loaded = _loaded_at_start(tmp_path, redis_url, key_prefix, **(twilio if configured else {}))
    assert loaded is configured

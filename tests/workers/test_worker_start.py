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


def _env(tmp_path: Path, redis_url: str, prefix: str, **settings: str) -> dict[str, str]:
    config = tmp_path / "subscriptions.yaml"
    config.write_text(
        "providers:\n  - id: acme\n    name: Acme\n"
        '    feed: {url: "https://status.acme.test/api/v2/summary.json", format: statuspage-json}\n'
        "subscribers:\n  - name: ops\n    sms: {to: ['+15005550006']}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env.update(NOTIFIER_CONFIG=str(config), NOTIFIER_DATA_DIR=str(tmp_path),
               NOTIFIER_REDIS_URL=redis_url, NOTIFIER_KEY_PREFIX=prefix, **settings)  # fmt: skip
    return env


def _run(code: str, env: dict[str, str]) -> str:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=True).stdout  # fmt: skip


def _loaded_at_start(tmp_path: Path, redis_url: str, prefix: str, **settings: str) -> bool:
    env = _env(tmp_path, redis_url, prefix, **settings)
    code = (
        "import sys, workers.app as app\n"
        f"before = {LAZY!r} in sys.modules\n"
        "app._load_at_worker_start(sender='celery@test')\n"
        f"print(before, {LAZY!r} in sys.modules)\n"
    )
    before, after = _run(code, env).split()
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


def test_a_new_pool_process_builds_its_runtime_before_its_first_task(
    tmp_path: Path, redis_url: str, key_prefix: str
) -> None:
    code = (
        "import os, sys\n"
        "from celery.signals import worker_process_init\n"
        "import workers.app as app\n"
        "from workers.process_state import loaded\n"
        "app._load_at_worker_start(sender='celery@test')  # the worker's main process\n"
        "pid = os.fork()\n"
        "if pid == 0:  # a pool process, as billiard starts one\n"
        "    worker_process_init.send(sender=None)\n"
        "    built = loaded()._runtime\n"
        "    print(built is not None and built[0] == os.getpid(), flush=True)\n"
        "    os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "print(loaded()._runtime is None)  # the main process builds none\n"
    )
    assert _run(code, _env(tmp_path, redis_url, key_prefix)).split() == ["True", "True"]


def test_a_process_that_loaded_no_config_builds_nothing_when_it_starts(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    code = (
        "from celery.signals import worker_process_init\n"
        "import workers.app\n"
        "from workers.process_state import loaded\n"
        "worker_process_init.send(sender=None)\n"
        "print(loaded.cache_info().currsize)\n"
    )
    assert _run(code, env).split() == ["0"]

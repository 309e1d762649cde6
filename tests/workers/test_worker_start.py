"""What a worker's main process and its new pool processes load before any task, so that
no task (a page, perhaps) loads it on its path. Fresh processes: what is imported is the
point. Two subprocesses in all (each costs a worker's imports, about a CPU-second)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.served import served_env

ROOT = Path(__file__).resolve().parents[2]
# twilio-python imports its Messages resource at a client's first `messages`.
LAZY = "twilio.rest.api.v2010.account.message"
TWILIO = {
    "NOTIFIER_TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    "NOTIFIER_TWILIO_AUTH_TOKEN": "test-token-not-real",
    "NOTIFIER_TWILIO_FROM": "+15005550006",
}


def _env(tmp_path: Path, redis_url: str, prefix: str, **settings: str) -> dict[str, str]:
    config = tmp_path / "subscriptions.yaml"
    config.write_text(
        "providers:\n  - id: acme\n    name: Acme\n"
        '    feed: {url: "https://status.acme.test/api/v2/summary.json", format: statuspage-json}\n'
        "subscribers:\n  - name: ops\n    sms: {to: ['+15005550006']}\n"
    )
    return served_env(tmp_path, redis_url, prefix, NOTIFIER_CONFIG=str(config), **settings)


def _run(code: str, env: dict[str, str]) -> list[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=True).stdout.split()  # fmt: skip


PRELUDE = (
    "import os, sys\n"
    "from celery.signals import worker_process_init\n"
    "import workers.app as app\n"
    "from workers.process_state import loaded\n"
    f"print({LAZY!r} in sys.modules)  # not before: else the check proves nothing\n"
)


def test_with_twilio_a_worker_loads_the_sms_client_and_a_pool_process_its_runtime_first(
    tmp_path: Path, redis_url: str, key_prefix: str
) -> None:
    code = PRELUDE + (
        "app._load_at_worker_start(sender='celery@test')  # the worker's main process\n"
        f"print({LAZY!r} in sys.modules)\n"
        "pid = os.fork()\n"
        "if pid == 0:  # a pool process, as billiard starts one\n"
        "    worker_process_init.send(sender=None)\n"
        "    built = loaded()._runtime\n"
        "    print(built is not None and built[0] == os.getpid(), flush=True)\n"
        "    os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "print(loaded()._runtime is None)  # the main process builds none\n"
    )
    before, sms_client, pool_runtime, main_none = _run(
        code, _env(tmp_path, redis_url, key_prefix, **TWILIO)
    )
    assert (before, sms_client, pool_runtime, main_none) == ("False", "True", "True", "True")


def test_without_twilio_no_sms_client_and_a_process_with_no_config_builds_nothing(
    tmp_path: Path, redis_url: str, key_prefix: str
) -> None:
    code = PRELUDE + (
        "worker_process_init.send(sender=None)  # no worker main process loaded a config\n"
        "print(loaded.cache_info().currsize)\n"
        "app._load_at_worker_start(sender='celery@test')\n"
        f"print({LAZY!r} in sys.modules)\n"
    )
    before, loaded_configs, sms_client = _run(code, _env(tmp_path, redis_url, key_prefix))
    assert (before, loaded_configs, sms_client) == ("False", "0", "False")

"""Importing the Celery harness has no side effects: no Redis, no subscription file,
no configuration read. Both are read when a worker or beat starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_app_and_tasks_import_without_redis_or_a_subscription_file(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env |= {
        "NOTIFIER_REDIS_URL": "redis://127.0.0.1:1/0",  # nothing listens there
        "NOTIFIER_CONFIG": str(tmp_path / "nonexistent.yaml"),
        "NOTIFIER_DATA_DIR": str(tmp_path / "data"),
    }
    probe = (
        "import workers.app, workers.tasks\n"
        "from workers.process_state import loaded, redis_url\n"
        "assert not workers.app.app.configured, 'Celery read its configuration'\n"
        "assert loaded.cache_info().currsize == 0, 'the subscription file was read'\n"
        "assert redis_url.cache_info().currsize == 0, 'Redis was looked up'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env | {"PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "data").exists()


def test_a_broken_subscription_file_stops_the_worker_at_start(tmp_path: Path) -> None:
    bad = tmp_path / "subscriptions.yaml"
    bad.write_text("providers:\n  - id: openai\n    pol_interval: 5\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env |= {"NOTIFIER_REDIS_URL": "redis://127.0.0.1:1/0", "NOTIFIER_CONFIG": str(bad)}
    for mode in ("worker", "beat"):
        done = subprocess.run(
            [sys.executable, "-m", "workers", mode], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 1, (mode, done.stderr)
        assert "subscriptions.yaml:3: providers[0].pol_interval: unknown key" in done.stderr


def test_the_beat_never_imports_the_tasks_nor_the_pipeline_stages(tmp_path: Path) -> None:
    """The beat sends its entries by name: what it imports (the app, its scheduler) leaves
    the tasks and the stages they run to the workers, which register them at start."""
    stages = ["workers.tasks", "notifier.pipeline.ingest.stage", "notifier.pipeline.plan.stage",
              "notifier.pipeline.delivery.stage", "notifier.pipeline.history"]  # fmt: skip
    probe = (
        "import sys\n"
        "import workers.__main__, workers.schedule\n"
        "workers.__main__.app.loader.import_default_modules()  # as `celery beat` starts\n"
        f"stages = {stages!r}\n"
        "assert not [m for m in stages if m in sys.modules], 'the beat imported a stage'\n"
        "workers.__main__.register_tasks()\n"
        "assert 'notifier.deliver' in workers.__main__.app.tasks\n"
        "assert all(m in sys.modules for m in stages), 'a worker lacks a stage'\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env |= {"NOTIFIER_REDIS_URL": "redis://127.0.0.1:1/0"}  # named, never reached
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env | {"PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr

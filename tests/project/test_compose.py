"""docker-compose.yml cannot run here (no Docker engine), so check what can be checked:
every command is a real `notifier` entry point and every environment name a real setting."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
import yaml

from notifier.cli import build_parser
from notifier.config.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
NOTIFIER_SERVICES = {n: s for n, s in SERVICES.items() if n not in ("redis", "postgres")}


def _subcommands() -> set[str]:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def test_it_declares_the_production_services() -> None:
    assert set(SERVICES) == {
        "redis", "postgres", "worker-poll", "worker-page", "worker-deliver", "beat",
        "beat-standby", "web",
    }  # fmt: skip


def test_deliver_workers_scale_out_and_one_beat_stands_by() -> None:
    assert SERVICES["worker-deliver"]["deploy"]["replicas"] >= 2
    assert SERVICES["beat-standby"]["command"] == SERVICES["beat"]["command"]


def test_pages_have_a_worker_of_their_own() -> None:
    """No volume of Slack or email can delay a page: only the page worker consumes `page`."""
    consumers = {
        name: s["command"][s["command"].index("--queues") + 1].split(",")
        for name, s in NOTIFIER_SERVICES.items()
        if "--queues" in s["command"]
    }
    assert consumers["worker-page"] == ["page"]
    assert [n for n, queues in consumers.items() if "page" in queues] == ["worker-page"]


def test_every_service_has_a_healthcheck() -> None:
    for name, service in SERVICES.items():
        assert "healthcheck" in service, name


def test_redis_persists_its_data() -> None:
    assert "--appendonly" in SERVICES["redis"]["command"]
    assert SERVICES["redis"]["volumes"]


@pytest.mark.parametrize("name", sorted(NOTIFIER_SERVICES))
def test_every_command_is_a_real_entry_point(name: str) -> None:
    command = NOTIFIER_SERVICES[name]["command"]
    assert command[0] == "notifier"
    build_parser().parse_args(command[1:])  # exits (fails the test) on an unknown command


def test_every_healthcheck_command_parses() -> None:
    for name, service in NOTIFIER_SERVICES.items():
        test = service["healthcheck"]["test"]
        if test[1] == "notifier":
            build_parser().parse_args(test[2:]), name


def test_every_environment_name_is_a_real_setting() -> None:
    fields = {f"NOTIFIER_{n.upper()}" for n in Settings.model_fields}
    names: set[str] = set()
    for service in NOTIFIER_SERVICES.values():
        names |= set(service.get("environment", {}))
    env_example = (ROOT / "config" / ".env.example").read_text()
    names |= set(re.findall(r"^#?\s*(NOTIFIER_[A-Z_]+)=", env_example, re.M))
    assert names, "no settings found"
    assert names <= fields, names - fields


def test_subcommands_of_the_production_split_exist() -> None:
    assert {"run", "worker", "beat", "web", "healthcheck"} <= _subcommands()


def test_every_notifier_service_keeps_its_data_dir_on_a_volume() -> None:
    # The generation marker there is what stops re-alerting after a Redis loss.
    for name, service in NOTIFIER_SERVICES.items():
        data_dir = service["environment"]["NOTIFIER_DATA_DIR"]
        mounts = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
        assert mounts.get(data_dir) in COMPOSE["volumes"], name

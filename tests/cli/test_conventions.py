"""The conventions of docs/commands.md, command by command, through real `python -m
notifier` processes: `--version`; a reader that closes the pipe ends the command quietly
with status 0; `--json` prints one object for one thing and JSON Lines for a list; one
wording for "no Redis"; a missing subscription file says how to get one; `notifier init`
writes the packaged starter, which checks clean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from notifier import __version__
from tests.support.cli import run_notifier

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "subscriptions.example.yaml"
DOC = ROOT / "examples" / "2024-12-26-openai-azure" / "openai" / "20241226T190500Z.json"


def notifier(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT, stdout: int | None = None
) -> subprocess.CompletedProcess[str]:
    """The command's outcome, its output captured; with `stdout` (a file descriptor), a
    fresh `python -m notifier` writing there: the zygote's children write to files."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    env = base | {"PYTHONPATH": str(ROOT)} | (env or {})
    if stdout is None:
        return run_notifier(args, cwd=cwd, env=env, timeout=120)
    return subprocess.run(
        [sys.executable, "-m", "notifier", *args], cwd=cwd, env=env,
        stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=120,
    )  # fmt: skip


@pytest.fixture
def service_env(redis_url: str, key_prefix: str, tmp_path: Path) -> dict[str, str]:
    return {"NOTIFIER_REDIS_URL": redis_url, "NOTIFIER_KEY_PREFIX": key_prefix,
            "NOTIFIER_CONFIG": str(EXAMPLE), "NOTIFIER_DATA_DIR": str(tmp_path / "d")}  # fmt: skip


def test_version_names_the_installed_version() -> None:
    done = notifier("--version")
    assert (done.returncode, done.stdout) == (0, f"notifier {__version__}\n")


@pytest.mark.parametrize(
    "args",
    [["feed", "parse", str(DOC)], ["providers", "--json"], ["providers"], ["deliveries"],
     ["silence", "list"], ["pending"], ["status", "--json"]],
    ids=" ".join,
)  # fmt: skip
def test_a_reader_that_left_ends_the_command_quietly(
    args: list[str], service_env: dict[str, str]
) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first byte: every write meets EPIPE
    try:
        done = notifier(*args, env=service_env, stdout=write)
    finally:
        os.close(write)
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr


def test_head_of_a_long_listing_prints_no_traceback() -> None:
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c",
         f"{sys.executable} -m notifier providers --json | head -1"],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert json.loads(done.stdout)["id"]


ONE_THING = [["status", "--json"], ["pending", "--json"], ["config", "check", "--json"],
             ["feed", "parse", str(DOC)]]  # fmt: skip
A_LIST = [["providers", "--json"], ["providers", "--watched", "--json"],
          ["providers", "search", "atlassian", "--json"], ["deliveries", "--json"],
          ["silence", "list", "--json"], ["quarantine", "list", "--json"],
          ["test-alert", "--json"]]  # fmt: skip


@pytest.mark.parametrize("args", ONE_THING, ids=" ".join)
def test_json_of_one_thing_is_one_object_on_one_line(
    args: list[str], service_env: dict[str, str]
) -> None:
    done = notifier(*args, env=service_env)
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout[:500] + done.stderr
    assert isinstance(json.loads(lines[0]), dict)


@pytest.mark.parametrize("args", A_LIST, ids=" ".join)
def test_json_of_a_list_is_json_lines(args: list[str], service_env: dict[str, str]) -> None:
    done = notifier(*args, env=service_env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert all(isinstance(json.loads(line), dict) for line in lines), done.stdout[:500]
    if args[0] in ("providers", "test-alert"):
        assert len(lines) > 1  # the catalog, the example's routes: more than one thing


def test_a_silence_added_and_listed_is_the_same_object(service_env: dict[str, str]) -> None:
    added = notifier("silence", "add", "provider=openai", "--for", "1h", "--reason", "test",
                     "--json", env=service_env)  # fmt: skip
    assert added.returncode == 0, added.stderr
    silence = json.loads(added.stdout)
    listed = notifier("silence", "list", "--json", env=service_env)
    assert silence in [json.loads(line) for line in listed.stdout.splitlines()]
    ended = notifier("silence", "expire", silence["id"], "--json", env=service_env)  # fmt: skip
    assert json.loads(ended.stdout)["id"] == silence["id"]


@pytest.mark.parametrize(
    "args", [["deliveries"], ["status"], ["pending"], ["silence", "list"],
             ["quarantine", "list"], ["web", "--port", "0"], ["worker"]], ids=" ".join,
)  # fmt: skip
def test_no_redis_is_said_one_way_by_every_command(args: list[str], tmp_path: Path) -> None:
    data = tmp_path / "data"  # nothing of ours runs here, and no NOTIFIER_REDIS_URL
    done = notifier(*args, env={"NOTIFIER_CONFIG": str(EXAMPLE), "NOTIFIER_DATA_DIR": str(data)})
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        f"notifier {args[0]}: no Redis: NOTIFIER_REDIS_URL is unset and no service runs under "
        f"{data}. Start the service with `notifier run`, or set NOTIFIER_REDIS_URL"
    )


@pytest.mark.parametrize("args", [["config", "check"], ["run"], ["test-alert"]], ids=" ".join)
def test_without_a_subscription_file_it_says_how_to_get_one(
    args: list[str], tmp_path: Path
) -> None:
    done = notifier(*args, cwd=tmp_path, env={"NOTIFIER_DATA_DIR": str(tmp_path / "d")})
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert (
        "config/subscriptions.yaml: cannot read: No such file or directory. `notifier init` "
        "writes a commented starter file there; or set NOTIFIER_CONFIG"
    ) in done.stderr


def test_init_writes_the_packaged_starter_which_checks_clean(tmp_path: Path) -> None:
    env = {"NOTIFIER_DATA_DIR": str(tmp_path / "d")}
    done = notifier("init", cwd=tmp_path, env=env)
    assert (done.returncode, done.stdout) == (0, "wrote config/subscriptions.yaml\n"), done.stderr
    written = (tmp_path / "config" / "subscriptions.yaml").read_text()
    packaged = resources.files("notifier.config").joinpath("starter.yaml").read_text()
    assert written == packaged and written.startswith("# notifier subscription file")
    check = notifier("config", "check", cwd=tmp_path, env=env)
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith("config/subscriptions.yaml: OK")
    # Never over a file that is there, unless told.
    (tmp_path / "config" / "subscriptions.yaml").write_text("# mine\n")
    again = notifier("init", cwd=tmp_path, env=env)
    assert again.returncode == 1 and "already there" in again.stderr
    assert (tmp_path / "config" / "subscriptions.yaml").read_text() == "# mine\n"
    forced = notifier("init", "--force", cwd=tmp_path, env=env)
    assert forced.returncode == 0
    assert (tmp_path / "config" / "subscriptions.yaml").read_text() == packaged


def test_init_elsewhere_says_to_point_notifier_config_at_it(tmp_path: Path) -> None:
    done = notifier("init", "ops/subs.yaml", cwd=tmp_path)
    assert done.returncode == 0 and (tmp_path / "ops" / "subs.yaml").is_file()
    assert "export NOTIFIER_CONFIG=ops/subs.yaml" in done.stderr
    assert "`notifier config check ops/subs.yaml`" in done.stderr

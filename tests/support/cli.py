"""Run a short `notifier` command as a process, as `subprocess.run` would (made here).

`run_notifier(argv, cwd=..., env=...)` returns a `subprocess.CompletedProcess[str]` with
the command's exit status and its whole stdout and stderr. The process is a fork of this
test worker's zygote (`tests.support.zygote`), which has the command's imports done, so a
command costs its work and not its start-up. It is still a process of its own: the
environment given (replacing the worker's, as `subprocess.run(env=...)` does), the working
directory, stdin from /dev/null or `input`, exit status, and a kill at the timeout.

A command that serves until stopped (`run`, `web`, `worker`, `beat`) runs here only where
it is expected to end by itself (no Redis, a bad setting); one that serves is started by
`tests/support/served.py`, which stops it with signals. Set NOTIFIER_TEST_COLD_CLI=1 to run
every command as a fresh `python -m notifier` instead.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class _Zygote:
    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.zygote"], cwd=ROOT,
            env=env | {"PYTHONPATH": str(ROOT)}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, bufsize=1,
        )  # fmt: skip
        atexit.register(self.close)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    def ask(self, request: dict[str, object]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()

    def answer(self, deadline: float) -> dict[str, int | str] | None:
        """The zygote's next line, or None when the deadline passed first."""
        assert self.proc.stdout is not None
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([self.proc.stdout], [], [], remaining)[0]:
            return None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the CLI zygote ended")
        answer: dict[str, int | str] = json.loads(line)
        return answer


_zygote: _Zygote | None = None
_forked_cpu = 0.0


def forked_cpu() -> float:
    """CPU seconds the commands this process ran through the zygote spent: they are the
    zygote's children, not ours, so `resource.RUSAGE_CHILDREN` does not see them."""
    return _forked_cpu


def _the_zygote() -> _Zygote:
    global _zygote
    if _zygote is None or not _zygote.alive():
        _zygote = _Zygote()
    return _zygote


def run_notifier(
    argv: Sequence[str],
    *,
    cwd: Path | str = ROOT,
    env: Mapping[str, str],
    timeout: float = 60,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python -m notifier *argv` in `cwd` with exactly `env`, to its end."""
    args = [sys.executable, "-m", "notifier", *argv]

    def cold() -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=cwd, env=dict(env), input=input, capture_output=True,
                              text=True, timeout=timeout)  # fmt: skip

    if os.environ.get("NOTIFIER_TEST_COLD_CLI"):
        return cold()
    with tempfile.TemporaryDirectory(prefix="notifier-cli-") as tmp:
        stdin = os.devnull
        if input is not None:
            stdin = os.path.join(tmp, "stdin")
            Path(stdin).write_text(input, encoding="utf-8")
        out, err = os.path.join(tmp, "stdout"), os.path.join(tmp, "stderr")
        zygote = _the_zygote()
        zygote.ask({"argv": list(argv), "cwd": str(cwd), "env": dict(env), "stdin": stdin,
                    "stdout": out, "stderr": err})  # fmt: skip
        deadline = time.monotonic() + timeout
        started = zygote.answer(deadline + 30)  # a fork takes no time: this is the zygote
        if started is None or "refused" in started:
            zygote.close()
            return cold()
        ended = zygote.answer(deadline)
        if ended is None:
            os.kill(int(started["pid"]), 9)
            zygote.answer(time.monotonic() + 30)
            raise subprocess.TimeoutExpired(args, timeout, _read(out), _read(err))
        global _forked_cpu
        _forked_cpu += float(ended["cpu"])
        return subprocess.CompletedProcess(args, int(ended["status"]), _read(out), _read(err))


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""

"""`notifier init [PATH] [--force]`: write a commented starter subscription file.

The starter ships in the package (`notifier/config/starter.yaml`), so a `pip install`
has one: `notifier init && notifier config check && notifier run` works in an empty
directory. PATH defaults to config/subscriptions.yaml, the file every command reads
when NOTIFIER_CONFIG is unset. An existing file is never overwritten without --force.
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path
from typing import TextIO

from notifier.config.settings import DEFAULT_CONFIG


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    text = "write a commented starter subscription file (default config/subscriptions.yaml)"
    p = sub.add_parser("init", help=text, description=text)
    p.add_argument("path", nargs="?", type=Path, default=DEFAULT_CONFIG, metavar="PATH",
                   help=f"where to write it (default {DEFAULT_CONFIG})")  # fmt: skip
    p.add_argument("--force", action="store_true", help="overwrite a file that is there")
    p.set_defaults(func=run)


def starter() -> str:
    """The starter file's text, as packaged."""
    return resources.files("notifier.config").joinpath("starter.yaml").read_text("utf-8")


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    path: Path = args.path
    if path.exists() and not args.force:
        print(f"notifier init: {path} is already there; edit it, or pass --force to replace "
              "it with the starter", file=sys.stderr)  # fmt: skip
        return 1
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(starter(), "utf-8")
    except OSError as exc:
        print(f"notifier init: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    out.write(f"wrote {path}\n")
    check = "notifier config check"
    if path != DEFAULT_CONFIG:
        print(f"Every command reads {DEFAULT_CONFIG} unless told otherwise: "
              f"export NOTIFIER_CONFIG={path}", file=sys.stderr)  # fmt: skip
        check += f" {path}"
    print(f"Next: edit it, check it with `{check}`, and start the service with `notifier run`",
          file=sys.stderr)  # fmt: skip
    return 0

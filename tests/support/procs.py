"""Finding a process's children by the title they gave themselves (Linux /proc). Made here."""

from __future__ import annotations

from pathlib import Path


def title(pid: int) -> str:
    """What ps shows for `pid` (its argv, as setproctitle left it); '' once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\x00", b" ").decode(errors="replace").strip()


def children(pid: int) -> list[int]:
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in listed.split()]


def child_titled(pid: int, prefix: str) -> int | None:
    """The first child of `pid` whose title starts with `prefix`."""
    for child in children(pid):
        if title(child).startswith(prefix):
            return child
    return None

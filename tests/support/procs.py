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


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, however deep."""
    found, todo = set(), [pid]
    while todo:
        for child in _children_of_every_thread(todo.pop()):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Running, and not a zombie waiting for its parent."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _children_of_every_thread(pid: int) -> list[int]:
    """A child belongs to the thread that started it: read every thread's list."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return out

"""Write a learned edge into the subscription file, leaving the rest of it as it was.

The edge goes under the downstream provider's `depends_on:` as
`{provider: <upstream>, confidence: observed, evidence: "..."}`, after a comment with
the statistics behind it. The file is edited as text at the lines PyYAML's node marks
give (comments, order and quoting elsewhere stay untouched), checked by loading it as
the service would, and only then replaces the old one (atomically). A file whose
parts are written inline (`{...}`, `[...]`) where the edge must go is refused with
what to change.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import yaml

from notifier.config.load import ConfigError, load_config
from notifier.config.yamlmarks import compose


class AcceptError(Exception):
    """The edge cannot be written; the message says why (the file is unchanged)."""


def _leaf_end(node: yaml.Node) -> int:
    """0-based last line holding any of `node`'s text."""
    if isinstance(node, yaml.MappingNode) and not node.flow_style:
        return max(_leaf_end(n) for pair in node.value for n in pair)
    if isinstance(node, yaml.SequenceNode) and not node.flow_style:
        return max(_leaf_end(n) for n in node.value)
    end = node.end_mark
    return int(end.line) - (1 if end.column == 0 and end.line > node.start_mark.line else 0)


def _get(node: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    for k, v in node.value:
        if str(k.value) == key:
            return k, v
    return None


def _id_of(node: yaml.Node) -> str | None:
    found = _get(node, "id") if isinstance(node, yaml.MappingNode) else None
    return str(found[1].value) if found is not None else None


def _item(upstream: str, evidence: str, comment: str, indent: str) -> list[str]:
    """A block-sequence item at `indent` (the column of its dash)."""
    return [
        f"{indent}# {comment}",
        f"{indent}- provider: {upstream}",
        f"{indent}  confidence: observed",
        f"{indent}  evidence: {json.dumps(evidence, ensure_ascii=False)}",
    ]


def insert_edge(text: str, downstream: str, upstream: str, evidence: str, comment: str) -> str:
    """The file's text with the edge added (see the module docstring)."""
    comment, lines = " ".join(comment.split()), text.splitlines()
    root = compose(text)
    if root is None or (isinstance(root, yaml.MappingNode) and _get(root, "providers") is None):
        tail = ["providers:", f"  - id: {downstream}", "    depends_on:",
                *_item(upstream, evidence, comment, "      ")]  # fmt: skip
        return "\n".join([*lines, *tail]) + "\n"
    if not isinstance(root, yaml.MappingNode):
        raise AcceptError("the file is not a mapping of sections")
    found = _get(root, "providers")
    assert found is not None
    seq = found[1]
    if not isinstance(seq, yaml.SequenceNode) or seq.flow_style:
        raise AcceptError("`providers:` is written inline; write it as a block list first")
    entry = next((n for n in seq.value if _id_of(n) == downstream), None)
    if entry is None:  # a new item at the end of the list, at its dash's column
        dash = " " * max(0, seq.value[0].start_mark.column - 2) if seq.value else "  "
        new = [f"{dash}- id: {downstream}", f"{dash}  depends_on:",
               *_item(upstream, evidence, comment, dash + "    ")]  # fmt: skip
        at = _leaf_end(seq) + 1 if seq.value else found[0].end_mark.line + 1
        return "\n".join([*lines[:at], *new, *lines[at:]]) + "\n"
    if entry.flow_style:
        raise AcceptError(f"the entry of {downstream} is written inline ({{...}}); "
                          "write it as a block mapping first")  # fmt: skip
    deps = _get(entry, "depends_on")
    key_col = entry.start_mark.column
    if deps is None:
        new = [f"{' ' * key_col}depends_on:",
               *_item(upstream, evidence, comment, " " * (key_col + 2))]  # fmt: skip
        at = _leaf_end(entry) + 1
        return "\n".join([*lines[:at], *new, *lines[at:]]) + "\n"
    dep_seq = deps[1]
    if not isinstance(dep_seq, yaml.SequenceNode) or dep_seq.flow_style or not dep_seq.value:
        raise AcceptError(f"`depends_on:` of {downstream} is written inline ([...]); write it "
                          "as a block list (one `- id` per line) first")  # fmt: skip
    dash = " " * max(0, dep_seq.value[0].start_mark.column - 2)
    at = _leaf_end(dep_seq) + 1
    new = _item(upstream, evidence, comment, dash)
    return "\n".join([*lines[:at], *new, *lines[at:]]) + "\n"


def accept(path: Path, downstream: str, upstream: str, evidence: str, comment: str) -> None:
    """Add the edge to the file at `path`; raises `AcceptError` and leaves it unchanged
    when the result would not load."""
    before = path.read_text(encoding="utf-8")
    after = insert_edge(before, downstream, upstream, evidence, comment)
    fd, tmp = tempfile.mkstemp(prefix=".accept-", suffix=".yaml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(after)
        try:
            load_config(Path(tmp))
        except ConfigError as exc:
            raise AcceptError("the file would not load with the edge: "
                              + "; ".join(exc.errors[:3])) from None  # fmt: skip
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)

"""Read YAML keeping line numbers, and point a validation error at its line.

PyYAML's node API (`yaml.compose`) keeps a start mark on every node; we build the
plain data from the same node tree and later walk it along a pydantic error
location (`("subscribers", 1, "slack", "channel")`) to the deepest node that exists.
A missing key therefore points at its parent mapping, which is where the user has
to add it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

Loc = Sequence[int | str]
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class DuplicateKeyError(Exception):
    """A mapping names one key twice (PyYAML would silently keep the last)."""

    def __init__(self, key: str, line: int) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key
        self.line = line


def compose(text: str) -> yaml.Node | None:
    """The node tree of one YAML document; raises `yaml.YAMLError` with marks."""
    # libyaml's parser when PyYAML has it: a 10,000-subscriber file composes in about a
    # second instead of thirty, in every process that loads it. Same nodes, same marks.
    node = yaml.compose(text, Loader=_LOADER)
    if node is not None:
        _check_duplicates(node)
    return node


def construct(node: yaml.Node | None) -> Any:
    """Plain Python data from a composed node (safe types only)."""
    if node is None:
        return None
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_duplicates(node: yaml.Node) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                raise DuplicateKeyError(key, key_node.start_mark.line + 1)
            seen.add(key)
            _check_duplicates(value_node)
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            _check_duplicates(child)


def _step(node: yaml.Node, part: int | str) -> tuple[yaml.Node, yaml.Node] | None:
    """(node that marks the line, child node) for one location part, if present.
    A mapping entry is marked by its key: `filter:` is where a typo is, not its value."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if str(key_node.value) == str(part):
                return key_node, value_node
    elif (
        isinstance(node, yaml.SequenceNode)
        and isinstance(part, int)
        and 0 <= part < len(node.value)
    ):
        return node.value[part], node.value[part]
    return None


def _child(node: yaml.Node, part: int | str) -> yaml.Node | None:
    found = _step(node, part)
    return None if found is None else found[1]


def line_of(root: yaml.Node | None, loc: Loc) -> int:
    """1-based line of the deepest node along `loc`; parts not in the tree are skipped
    (pydantic adds union-member tags such as 'str' or 'function-after[...]')."""
    if root is None:
        return 1
    node, mark = root, root
    for part in loc:
        found = _step(node, part)
        if found is not None:
            mark, node = found
    return int(mark.start_mark.line) + 1


def path_of(root: yaml.Node | None, loc: Loc) -> str:
    """`subscribers[1].slack.channel` for the parts of `loc` that are real keys/indexes,
    plus the final missing key (so 'field required' names it)."""
    out = ""
    node = root
    for i, part in enumerate(loc):
        child = _child(node, part) if node is not None else None
        is_last = i == len(loc) - 1
        if child is None and not (is_last and isinstance(part, str) and _is_key(part)):
            continue
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        node = child
    return out


def _is_key(part: str) -> bool:
    # pydantic's internal tags contain brackets or are type names like 'str'
    return "[" not in part and part not in {"str", "int", "list", "dict", "none"}

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


class UnsafeYamlError(Exception):
    """A document the loader will not build: a recursive alias, or a tag outside plain
    YAML (`!!python/object`, `!custom`). Carries the line it was found on."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


# The tags plain data may carry (YAML 1.1 core, as SafeLoader resolves them).
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{t}"
    for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "merge")
)


def compose(text: str) -> yaml.Node | None:
    """The node tree of one YAML document; raises `yaml.YAMLError` with marks, and
    `UnsafeYamlError` or `DuplicateKeyError` with a line."""
    # libyaml's parser when PyYAML has it: a 10,000-subscriber file composes in about a
    # second instead of thirty, in every process that loads it. Same nodes, same marks.
    node = yaml.compose(text, Loader=_LOADER)
    if node is not None:
        _check_tree(node)
        _check_duplicates(node, set())
    return node


def _check_tree(root: yaml.Node) -> None:
    """Refuse recursive aliases and foreign tags, visiting each node once (an alias
    names a node already seen: walking it again could take exponential time)."""
    seen: set[int] = set()
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        if leaving:
            on_path.discard(id(node))
            continue
        line = node.start_mark.line + 1
        if id(node) in on_path:
            raise UnsafeYamlError("a recursive alias (an anchor used inside itself)", line)
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.tag not in _PLAIN_TAGS:
            tag = str(node.tag)[:60]
            raise UnsafeYamlError(f"the tag {tag!r} is not allowed (plain YAML only)", line)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        if children:
            on_path.add(id(node))
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(children))


def construct(node: yaml.Node | None) -> Any:
    """Plain Python data from a composed node (safe types only)."""
    if node is None:
        return None
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _check_duplicates(node: yaml.Node, done: set[int]) -> None:
    if id(node) in done:  # an alias of a node already checked
        return
    done.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                raise DuplicateKeyError(key, key_node.start_mark.line + 1)
            seen.add(key)
            _check_duplicates(value_node, done)
    elif isinstance(node, yaml.SequenceNode):
        for child in node.value:
            _check_duplicates(child, done)


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

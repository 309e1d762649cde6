"""Pydantic's validation errors as short, helpful lines.

pydantic says `input should be 'new_incident', 'new_update', …` with every allowed
value, and `extra inputs are not permitted` for a typo. Here an unknown key or value
becomes `did you mean 'poll_interval'?` (or the first few allowed names), and no
message quotes a value from a field that may hold a secret.
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from notifier.config.references import Loc, Problem
from notifier.config.schema import Config
from notifier.config.suggest import hint, quote

_QUOTED = re.compile(r"'([^']*)'")
_CHOICE_ERRORS = {"literal_error", "enum"}


def schema_problems(exc: ValidationError, data: Mapping[str, Any]) -> list[Problem]:
    out: list[Problem] = []
    for err in exc.errors(include_url=False, include_input=False):
        loc: Loc = tuple(err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key" + hint(str(loc[-1]), fields_at(loc[:-1]), known="allowed")
        elif err["type"] in _CHOICE_ERRORS:
            msg = _choice(loc, str((err.get("ctx") or {}).get("expected", "")), data) or msg
        out.append((loc, msg[:1].lower() + msg[1:]))
    return out


def _choice(loc: Loc, expected: str, data: Mapping[str, Any]) -> str | None:
    """`'resolve' is not allowed here; did you mean 'resolved'?` for a literal or enum."""
    choices = _QUOTED.findall(expected)
    value = _value_at(data, loc)
    if not choices or not isinstance(value, str):
        return None
    return f"{quote(value)} is not allowed here{hint(value, choices, known='allowed')}"


def _value_at(data: Any, loc: Loc) -> Any:
    """The raw value a location names; a dict key's own error (`[key]`) names the key.
    Only choice fields reach here (never a secret)."""
    node = data
    for i, part in enumerate(loc):
        if part == "[key]":
            return loc[i - 1]
        in_map = isinstance(node, Mapping) and part in node
        in_list = isinstance(node, Sequence) and isinstance(part, int) and 0 <= part < len(node)
        if in_map or in_list:
            node = node[part]
        elif isinstance(part, str) and "[" in part:
            continue  # pydantic's own tags, such as 'function-after[...]'
        else:
            return None
    return node


def fields_at(loc: Loc) -> list[str]:
    """The keys the schema allows in the mapping at `loc` (empty when not a model)."""
    kind: Any = Config
    for part in loc:
        kind = _unwrap(kind)
        origin = get_origin(kind)
        if origin is list and isinstance(part, int):
            kind = get_args(kind)[0]
        elif origin is dict:
            kind = get_args(kind)[1]
        elif isinstance(kind, type) and issubclass(kind, BaseModel):
            field = kind.model_fields.get(str(part))
            if field is None:
                continue  # a pydantic tag, not a key
            kind = field.annotation
        else:
            return []
    kind = _unwrap(kind)
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return list(kind.model_fields)
    return []


def _unwrap(kind: Any) -> Any:
    """`X` from `X | None` and `Annotated[X, ...]`."""
    while True:
        origin = get_origin(kind)
        if origin is Annotated:
            kind = get_args(kind)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(kind) if a is not type(None)]
            if len(args) != 1:
                return kind
            kind = args[0]
        else:
            return kind

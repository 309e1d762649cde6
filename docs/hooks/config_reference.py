"""MkDocs hook: the configuration reference, rendered from the pydantic models.

Every setting (`notifier.config.settings.Settings`) and every key of the subscription file
(`notifier.config.schema.Config` and the models below it) is rendered with its type, default
and `description=`, so the page cannot go stale: a new field appears on the next build, and
`tests/project/test_config_reference.py` fails when a field has no description.

A page asks for a table with a marker on a line of its own:
`<!-- config-reference: settings -->` or `<!-- config-reference: subscriptions -->`. In the
repository the table follows the marker, up to `<!-- /config-reference -->`, so the page
reads whole on GitHub too: `python docs/hooks/config_reference.py` (run by `make docs`)
writes it, the site build renders it afresh, and the test fails when the committed copy
is not what the models say.
"""

from __future__ import annotations

import enum
import re
import types
from collections.abc import Iterator
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from notifier.config.schema import Config
from notifier.config.settings import Settings

MARKER = re.compile(
    r"^<!-- config-reference: (settings|subscriptions) -->$"
    r"(?:\n.*?^<!-- /config-reference -->$)?",
    re.MULTILINE | re.DOTALL,
)
END = "<!-- /config-reference -->"
PAGE = Path(__file__).resolve().parents[1] / "config-reference.md"
ENV_PREFIX = "NOTIFIER_"

# Validators whose name says what a plain `str`/`time` really holds.
_VALIDATED = {
    "_phone": "E.164 phone number",
    "_tz": "IANA time zone",
    "_hhmm": 'time of day, `"HH:MM"`',
}


class Section(NamedTuple):
    """One model of the subscription file, at the YAML path where it appears."""

    path: str
    model: type[BaseModel]


def on_page_markdown(markdown: str, **_: Any) -> str:
    """MkDocs calls this for every page: replace each marker (and what follows it up to
    the end marker) with its table."""
    return MARKER.sub(lambda m: RENDERERS[m.group(1)](), markdown)


def regenerate(markdown: str) -> str:
    """The page as committed: each marker followed by its current table and the end marker."""
    return MARKER.sub(
        lambda m: f"<!-- config-reference: {m.group(1)} -->\n\n{RENDERERS[m.group(1)]()}\n\n{END}",
        markdown,
    )


# ---- settings --------------------------------------------------------------------------


def env_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def render_settings() -> str:
    rows = ["| variable | type | default | meaning |", "| --- | --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        rows.append(
            f"| `{env_name(name)}` | {type_name(field.annotation, field.metadata)} "
            f"| {default_text(field, yaml=False)} | {cell(field.description)} |"
        )
    return "\n".join(rows)


# ---- the subscription file -------------------------------------------------------------


def sections(model: type[BaseModel] = Config, path: str = "") -> Iterator[Section]:
    """Every model reachable from `model`, depth first in field order, each once, at the
    first YAML path that reaches it (`Filters` is also `channels_filters.<channel>`)."""
    seen: set[type[BaseModel]] = set()

    def walk(m: type[BaseModel], p: str) -> Iterator[Section]:
        if m in seen:
            return
        seen.add(m)
        yield Section(p, m)
        for name, field in m.model_fields.items():
            for child, suffix in _models_in(field.annotation):
                yield from walk(child, f"{p}.{name}{suffix}" if p else f"{name}{suffix}")

    yield from walk(model, path)


def render_subscriptions() -> str:
    out: list[str] = []
    for section in sections():
        title = f"`{section.path}`" if section.path else "The file"
        out.append(f"### {title} {{ #{anchor(section.model)} }}\n")
        if section.model.__doc__ and section.model is not Config:
            out.append(" ".join(section.model.__doc__.split()) + "\n")
        out.append("| key | type | default | meaning |")
        out.append("| --- | --- | --- | --- |")
        for name, field in section.model.model_fields.items():
            out.append(
                f"| `{name}` | {type_name(field.annotation, field.metadata)} "
                f"| {default_text(field, yaml=True)} | {cell(field.description)} |"
            )
        out.append("")
    return "\n".join(out)


RENDERERS = {"settings": render_settings, "subscriptions": render_subscriptions}


# ---- rendering helpers -----------------------------------------------------------------


def anchor(model: type[BaseModel]) -> str:
    return f"schema-{model.__name__.lower()}"


def cell(text: str | None) -> str:
    """A table cell: one line, pipes escaped. A field without a description renders as
    an empty cell, which the test catches."""
    return " ".join((text or "").split()).replace("|", "\\|")


def _models_in(annotation: Any) -> Iterator[tuple[type[BaseModel], str]]:
    """The models a field holds, with the YAML path suffix that reaches them."""
    origin, args = get_origin(annotation), get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation, ""
    elif origin is Annotated:
        yield from _models_in(args[0])
    elif origin in (Union, types.UnionType):
        for a in args:
            yield from _models_in(a)
    elif origin in (list, tuple):
        for child, suffix in _models_in(args[0]):
            yield child, f"[]{suffix}"
    elif origin is dict:
        key = "<channel>" if get_origin(args[0]) is Literal else "<name>"
        for child, suffix in _models_in(args[1]):
            yield child, f".{key}{suffix}"


def type_name(annotation: Any, metadata: list[Any] | None = None) -> str:
    for m in metadata or []:
        func = getattr(m, "func", None)
        if func is not None and func.__name__ in _VALIDATED:
            return _VALIDATED[func.__name__]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return type_name(args[0], list(args[1:]))
    if origin in (Union, types.UnionType):
        return " or ".join(type_name(a) for a in args if a is not type(None))
    if origin is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin in (list, tuple):
        return f"list of {type_name(args[0]).removeprefix('one of ')}"
    if origin is dict:
        key = type_name(args[0]).removeprefix("one of ")
        return f"mapping from {key} to {type_name(args[1])}"
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return f"[mapping](#{anchor(annotation)})"
        if issubclass(annotation, enum.Enum):
            return "one of " + ", ".join(f"`{e.value}`" for e in annotation)
        simple = {
            str: "string",
            int: "integer",
            float: "number",
            bool: "boolean",
            Path: "path",
            SecretStr: "string (secret, never printed)",
            date: "date, `YYYY-MM-DD`",
            time: 'time of day, `"HH:MM"`',
        }
        if annotation in simple:
            return simple[annotation]
    return f"`{annotation}`"


def default_text(field: FieldInfo, *, yaml: bool) -> str:
    """The default as the reader would write it (YAML in the file, text in the env)."""
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "**required**"
    else:
        value = field.default
    text = _value_text(value, yaml=yaml)
    bounds = _bounds(field)
    return f"{text}{bounds}"


def _value_text(value: Any, *, yaml: bool) -> str:
    if value is None:
        return "unset"
    if value == "":
        return '`""`'
    if isinstance(value, BaseModel):
        return "(each key's default)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, time):
        return f'`"{value:%H:%M}"`' if yaml else f"`{value:%H:%M}`"
    if isinstance(value, list | tuple | dict) and not value:
        return "`[]`" if not isinstance(value, dict) else "`{}`"
    return f"`{value}`"


def _bounds(field: FieldInfo) -> str:
    parts = []
    for m in field.metadata:
        if getattr(m, "ge", None) is not None:
            parts.append(f"at least {m.ge}")
        if getattr(m, "min_length", None):
            parts.append(f"at least {m.min_length} item(s)")
    return f" ({', '.join(parts)})" if parts else ""


if __name__ == "__main__":
    PAGE.write_text(regenerate(PAGE.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {PAGE}")

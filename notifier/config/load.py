"""The subscription file: which providers to watch, and who hears about what.

`load_config(path)` reads YAML, validates it with the pydantic models in
`notifier.config.schema`, then checks cross-references (rotations, provider ids,
the catalog). Every problem becomes one `file:line: path: message` string in
`ConfigError.errors`, alertmanager style: every schema problem at once, then (once
the schema is valid) every cross-reference problem.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from pydantic import ValidationError

from notifier.config import yamlmarks
from notifier.config.catalog import Catalog, load_catalog
from notifier.config.schema import (
    FEED_FORMATS,
    Config,
    Dependency,
    DependencySpec,
    ResolvedProvider,
    Rotation,
    Subscriber,
    known_provider_ids,
)

if TYPE_CHECKING:
    from notifier.config.settings import Settings

Problem = tuple[tuple[int | str, ...], str]


class ConfigError(Exception):
    """The subscription file is invalid; `errors` are `file:line: path: message` strings."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def load_config(path: Path, catalog: Catalog | None = None) -> Config:
    """Read and validate a subscription file; raises `ConfigError`."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    return parse_config(text, path.name, catalog)


def parse_config(text: str, filename: str, catalog: Catalog | None = None) -> Config:
    """Validate YAML text; `filename` prefixes the error lines."""
    catalog = catalog if catalog is not None else load_catalog()
    try:
        root = yamlmarks.compose(text)
    except yamlmarks.DuplicateKeyError as exc:
        raise ConfigError([f"{filename}:{exc.line}: {exc}"]) from None
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([_yaml_error(filename, exc)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{filename}:1: {exc}"]) from None
    data = yamlmarks.construct(root)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([f"{filename}:1: the file must be a mapping (providers:, subscribers:)"])
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format(filename, root, _pydantic_problems(exc))) from None
    problems = list(check_references(config, catalog))
    if problems:
        raise ConfigError(_format(filename, root, problems))
    config.bind_catalog(catalog)
    return config


def _yaml_error(filename: str, exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    what = " ".join(p for p in (exc.context, exc.problem) if p)
    return f"{filename}:{line}: YAML syntax error: {what}"


def _pydantic_problems(exc: ValidationError) -> list[Problem]:
    out: list[Problem] = []
    for err in exc.errors(include_url=False, include_input=False):
        msg = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see config/subscriptions.example.yaml)"
        out.append((tuple(err["loc"]), msg[:1].lower() + msg[1:]))
    return out


def _format(filename: str, root: yaml.Node | None, problems: list[Problem]) -> list[str]:
    lines = []
    for loc, msg in problems:
        where = yamlmarks.path_of(root, loc)
        prefix = f"{filename}:{yamlmarks.line_of(root, loc)}:"
        lines.append(f"{prefix} {where}: {msg}" if where else f"{prefix} {msg}")
    return lines


# ---- cross-references ------------------------------------------------------------


def check_references(config: Config, catalog: Catalog) -> Iterator[Problem]:
    """Rules that need the whole file or the catalog, as (location, message)."""
    yield from _check_providers(config, catalog)
    known = known_provider_ids(config, catalog)
    for i, p in enumerate(config.providers):
        yield from _check_deps(("providers", i, "depends_on"), p.depends_on, known)
    for name, svc in config.services.items():
        yield from _check_deps(("services", name, "depends_on"), svc.depends_on, known)
    watched = {p.id for p in config.providers}
    names: set[str] = set()
    for i, sub in enumerate(config.subscribers):
        if sub.name in names:
            yield ("subscribers", i, "name"), f"duplicate subscriber name {sub.name!r}"
        names.add(sub.name)
        yield from _check_subscriber(("subscribers", i), sub, config.oncall.rotations, watched)


def _check_providers(config: Config, catalog: Catalog) -> Iterator[Problem]:
    seen: set[str] = set()
    for i, p in enumerate(config.providers):
        loc: tuple[int | str, ...] = ("providers", i)
        if p.id in seen:
            yield (*loc, "id"), f"provider {p.id!r} is listed twice"
        seen.add(p.id)
        entry = catalog.get(p.id)
        has_feed = p.feed is not None and p.feed.url is not None and p.feed.format is not None
        if entry is None:
            if p.name is None or not has_feed:
                yield (
                    loc,
                    (f"{p.id!r} is not in the catalog: give `name` and `feed: {{url, format}}`"),
                )
        elif (entry.support == "unsupported" or entry.feed is None) and not has_feed:
            note = f" ({entry.note})" if entry.note else ""
            yield (
                (*loc, "id"),
                (
                    f"{p.id!r} cannot be polled: the catalog lists no public status feed for "
                    f"{entry.name}{note}; give your own `feed: {{url, format}}` or remove it"
                ),
            )
        if p.feed is not None and p.feed.format is not None:
            yield from _check_format((*loc, "feed", "format"), p.feed.format)


def _check_format(loc: tuple[int | str, ...], name: str) -> Iterator[Problem]:
    if name not in FEED_FORMATS:
        yield loc, f"unknown feed format {name!r}; known: {', '.join(sorted(FEED_FORMATS))}"


def _check_deps(
    loc: tuple[int | str, ...], deps: list[DependencySpec], known: set[str]
) -> Iterator[Problem]:
    for j, dep in enumerate(deps):
        if dep.provider not in known:
            yield (
                (*loc, j),
                (f"unknown provider {dep.provider!r} (not in the catalog nor under providers:)"),
            )


def _check_subscriber(
    loc: tuple[int | str, ...],
    sub: Subscriber,
    rotations: dict[str, Rotation],
    watched: set[str],
) -> Iterator[Problem]:
    if sub.sms is not None and sub.sms.rotation is not None and sub.sms.rotation not in rotations:
        have = ", ".join(sorted(rotations)) or "none defined under oncall.rotations"
        yield (*loc, "sms", "rotation"), f"unknown rotation {sub.sms.rotation!r} (have: {have})"
    if sub.fallback is not None and sub.fallback not in sub.channel_names():
        yield (
            (*loc, "fallback"),
            (
                f"fallback {sub.fallback!r} is not one of this subscriber's channels "
                f"({', '.join(sub.channel_names())})"
            ),
        )
    filter_sets = [((*loc, "filters"), sub.filters.providers)]
    for ch, f in sub.channels_filters.items():
        filter_sets.append(((*loc, "channels_filters", ch), f.providers))
    for floc, ids in filter_sets:
        for j, pid in enumerate(ids or ()):
            if pid not in watched:
                yield (
                    (*floc, "providers", j),
                    (f"provider {pid!r} is not watched (add it under providers:)"),
                )
    for ch in sub.channels_filters:
        if ch not in sub.channel_names():
            yield (*loc, "channels_filters", ch), f"this subscriber has no {ch} channel"


__all__ = [
    "Config",
    "ConfigError",
    "Dependency",
    "ResolvedProvider",
    "load_config",
    "parse_config",
]


def secrets_for_logging(settings: Settings) -> list[str]:
    """Every secret value this process may handle: the settings' and the subscription
    file's (per-subscriber webhook URLs), for the log redaction filter."""
    try:
        from_config = load_config(settings.config_path()).secret_values()
    except (ConfigError, OSError):  # reported where the config is loaded for real
        from_config = []
    return settings.secret_values() + from_config

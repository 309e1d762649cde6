"""The subscription file: which providers to watch, and who hears about what.

`check_config(path)` reads YAML, validates it with the pydantic models in
`notifier.config.schema`, checks cross-references (rotations, provider ids, the
catalog; `notifier.config.references`) and, for a valid file, looks for what would
fail silently (`notifier.config.advice`). Every finding is one
`file:line: path: message` line, alertmanager style, all in one pass and in line
order: a block with a schema error is left out of the reference checks, the rest of
the file is not. `load_config(path)` is the same check, raising `ConfigError`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml
from pydantic import ValidationError

from notifier.config import yamlmarks
from notifier.config.advice import Reach, config_warnings
from notifier.config.catalog import Catalog, load_catalog
from notifier.config.messages import schema_problems
from notifier.config.references import Parts, Problem, check_references
from notifier.config.schema import Config
from notifier.config.schema.providers import Dependency
from notifier.config.schema.resolution import ResolvedProvider
from notifier.config.settings import DEFAULT_CONFIG, Settings

# A finding longer than this is cut: a line is read at a glance, not scrolled.
MAX_LINE = 180  # file:line: path: message; a warning about a channel override runs long


class ConfigError(Exception):
    """The subscription file is invalid; `errors` are `file:line: path: message` strings."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class ConfigReport:
    """What `check_config` found: the config when it is valid, else `errors`; `warnings`
    (same line format) say what a valid file would do silently wrong."""

    config: Config | None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def load_config(path: Path, catalog: Catalog | None = None) -> Config:
    """Read and validate a subscription file; raises `ConfigError`."""
    report = check_config(path, catalog)
    if report.config is None:
        raise ConfigError(report.errors)
    return report.config


def parse_config(text: str, filename: str, catalog: Catalog | None = None) -> Config:
    """Validate YAML text; `filename` prefixes the error lines."""
    report = check_text(text, filename, catalog)
    if report.config is None:
        raise ConfigError(report.errors)
    return report.config


def check_config(
    path: Path,
    catalog: Catalog | None = None,
    reach: Reach | None = None,
    now: datetime | None = None,
    seen_components: Mapping[str, Collection[str]] | None = None,
) -> ConfigReport:
    """Errors, or the config and its warnings. `reach` (what the channels can deliver
    with the current settings, `notifier.channels.reach.ChannelReach`) is needed for the
    warnings about channels that cannot deliver; None skips them."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        return ConfigReport(None, [unreadable(path, exc)])
    return check_text(text, path.name, catalog, reach, now, seen_components)


def unreadable(path: Path, exc: OSError) -> str:
    """`FILE: cannot read: why`, and for a file that is not there, how to get one."""
    line = f"{path}: cannot read: {exc.strerror or exc}"
    if isinstance(exc, FileNotFoundError):
        init = "notifier init" if path == DEFAULT_CONFIG else f"notifier init {path}"
        line += (f". `{init}` writes a commented starter file there; or set NOTIFIER_CONFIG "
                 "to the subscription file you have")  # fmt: skip
    return line


def check_text(
    text: str,
    filename: str,
    catalog: Catalog | None = None,
    reach: Reach | None = None,
    now: datetime | None = None,
    seen_components: Mapping[str, Collection[str]] | None = None,
) -> ConfigReport:
    """`check_config` of YAML text; `filename` prefixes the lines."""
    catalog = catalog if catalog is not None else load_catalog()
    try:
        root = yamlmarks.compose(text)
        data = yamlmarks.construct(root)
    except (yamlmarks.DuplicateKeyError, yamlmarks.UnsafeYamlError) as exc:
        return ConfigReport(None, [f"{filename}:{exc.line}: {exc}"])
    except yaml.MarkedYAMLError as exc:
        return ConfigReport(None, [_yaml_error(filename, exc)])
    except yaml.YAMLError as exc:
        return ConfigReport(None, [f"{filename}:1: YAML error: {str(exc).splitlines()[0][:200]}"])
    except RecursionError:
        return ConfigReport(None, [f"{filename}:1: YAML error: nested too deeply"])
    except (ValueError, TypeError):  # a timestamp or number the YAML loader cannot build
        return ConfigReport(None, [f"{filename}:1: YAML error: a value YAML cannot read"])
    if data is None:
        nothing = Config()
        nothing.bind_catalog(catalog)
        empty = f"{filename}:1: the file is empty: nothing is watched and nobody is told"
        return ConfigReport(nothing, [], [empty])
    if not isinstance(data, dict):
        error = f"{filename}:1: the file must be a mapping (providers:, subscribers:)"
        return ConfigReport(None, [error])
    problems: list[Problem] = []
    try:
        config: Config | None = Config.model_validate(data)
    except ValidationError as exc:
        config = None
        problems += schema_problems(exc, data)
    parts = Parts.of(config) if config is not None else Parts.salvage(data)
    problems += check_references(parts, catalog)
    if problems or config is None:
        return ConfigReport(None, _format(filename, root, problems))
    config.bind_catalog(catalog)
    found = config_warnings(config, catalog, reach, now or datetime.now(UTC), seen_components)
    return ConfigReport(config, [], _format(filename, root, list(found)))


def _yaml_error(filename: str, exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    what = " ".join(p for p in (exc.context, exc.problem) if p)
    return f"{filename}:{line}: YAML syntax error: {what}"


def _format(filename: str, root: yaml.Node | None, problems: list[Problem]) -> list[str]:
    """`file:line: path: message` lines in line order (stable: same line, found order)."""
    lines: list[tuple[int, str]] = []
    for loc, msg in problems:
        where = yamlmarks.path_of(root, loc)
        line = yamlmarks.line_of(root, loc)
        text = f"{filename}:{line}: {where}: {msg}" if where else f"{filename}:{line}: {msg}"
        if len(text) > MAX_LINE:
            text = text[: MAX_LINE - 1] + "…"
        lines.append((line, text))
    return [text for _, text in sorted(lines, key=lambda x: x[0])]


__all__ = [
    "Config",
    "ConfigError",
    "ConfigReport",
    "Dependency",
    "ResolvedProvider",
    "check_config",
    "check_text",
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

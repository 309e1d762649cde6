"""The subscription file's schema (pydantic v2). Loaded by `notifier.config.load.load_config`.

Every model forbids unknown keys, so a typo is an error rather than a silently
ignored setting. Rules inside one block (exactly one of `to` and `rotation`) live
with the block's model; rules across the file (does the rotation exist?) live in
`notifier.config.load`.

The root model, `Config`, is here; the models below it are in one module per part of
the file, and are imported from there:
- `fields`: the strict base model and the validated field types;
- `providers`: watched providers, their feeds, dependencies and probes, your services;
- `oncall`: rotations and their members;
- `subscribers`: who gets alerts, their routes, filters, quiet hours and digest;
- `resolution`: the providers merged with the catalog, and the dependency graph.
"""

from __future__ import annotations

import os
import re
from functools import cached_property

from pydantic import Field, PrivateAttr

from notifier.config.catalog import Catalog
from notifier.config.schema import resolution
from notifier.config.schema.fields import Strict, env_secret
from notifier.config.schema.oncall import Oncall
from notifier.config.schema.providers import Dependency, ProviderConfig, ServiceConfig
from notifier.config.schema.resolution import ResolvedProvider
from notifier.config.schema.subscribers import Subscriber


class Config(Strict):
    providers: list[ProviderConfig] = Field(default_factory=list, description="Watched providers.")
    services: dict[str, ServiceConfig] = Field(
        default_factory=dict, description="Your own services and the providers they use."
    )
    oncall: Oncall = Field(default_factory=Oncall, description="On-call rotations for SMS.")
    subscribers: list[Subscriber] = Field(default_factory=list, description="Who gets alerts.")
    group_interval: int = Field(
        5,
        ge=1,
        le=1440,
        description=(
            "Minutes between follow-ups about one cascade: incidents that join a cascade "
            "a subscriber was paged for reach them at most once per interval, together."
        ),
    )

    _catalog: Catalog | None = PrivateAttr(None)
    _graph: dict[str, tuple[Dependency, ...]] | None = PrivateAttr(None)

    def bind_catalog(self, catalog: Catalog) -> None:
        self._catalog = catalog
        self._graph = None

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            from notifier.config.catalog import load_catalog

            self._catalog = load_catalog()
        return self._catalog

    def secret_values(self) -> list[str]:
        """Plain values of every secret in the file (subscribers' Slack webhook URLs),
        for the log redaction filter next to `Settings.secret_values()`."""
        out: list[str] = []
        for s in self.subscribers:
            for url in (s.slack.webhook_url if s.slack is not None else None,
                        s.webhook.url if s.webhook is not None else None):  # fmt: skip
                if url is not None and url.get_secret_value() not in out:
                    out.append(url.get_secret_value())
            for name in s.secret_env_names():
                value = os.environ.get(name, "")
                # A list of apprise URLs is scrubbed URL by URL too: a log names one.
                parts = re.split(r"[\s,]+", value.strip()) if value else []
                for secret in dict.fromkeys([value, *parts]):
                    if secret and secret not in out:
                        out.append(secret)
        for p in self.providers:
            secrets = [p.webhook_token, env_secret(p.webhook_token_env)]
            secrets += [env_secret(probe.header.value_env) for probe in p.probes if probe.header]
            for secret in secrets:
                if secret is not None and secret.get_secret_value() not in out:
                    out.append(secret.get_secret_value())
        return out

    @cached_property
    def subscribers_by_name(self) -> dict[str, Subscriber]:
        return {s.name: s for s in self.subscribers}

    def subscriber(self, name: str) -> Subscriber | None:
        """By name, from an index built once (a fan-out asks once per alert)."""
        return self.subscribers_by_name.get(name)

    def resolved_providers(self) -> list[ResolvedProvider]:
        return [self._resolve(p) for p in self.providers]

    def with_subscribers(self, names: list[str]) -> Config:
        """This file with only the subscribers named (in that order; unknown names are
        skipped): what one chunk of a large fan-out plans. Nothing is re-validated."""
        index = self.subscribers_by_name
        part = [s for n in names if (s := index.get(n)) is not None]
        copy = self.model_copy(update={"subscribers": part})
        copy.__dict__.pop("subscribers_by_name", None)  # the cached index is the whole file's
        return copy

    @cached_property
    def _provider_names(self) -> dict[str, str]:
        return {p.id: p.name for p in reversed(self.providers) if p.name}

    def provider_name(self, provider_id: str) -> str:
        """Display name: the file's, else the catalog's, else the id (from an index:
        a fan-out asks once per route)."""
        name = self._provider_names.get(provider_id)
        if name:
            return name
        entry = self.catalog.get(provider_id)
        return entry.name if entry is not None else provider_id

    def dependency_graph(self) -> dict[str, tuple[Dependency, ...]]:
        """Every known provider's direct upstreams: all catalog edges plus the file's."""
        if self._graph is None:
            self._graph = resolution.dependency_graph(self.catalog, self.providers)
        return dict(self._graph)

    def _resolve(self, p: ProviderConfig) -> ResolvedProvider:
        return resolution.resolve(
            p, self.catalog.get(p.id), self.provider_name(p.id), self.dependency_graph()[p.id]
        )


__all__ = ["Config"]

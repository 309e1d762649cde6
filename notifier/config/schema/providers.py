"""The subscription file's providers: each watched provider (its feed, status page,
dependencies and probes) and your own services, as the file states them. The catalog
merged in is `notifier.config.schema.resolution`'s."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic import model_validator as _model_validator

from notifier.config.schema.fields import EnvName, Strict, env_secret
from notifier.safeurl import split_clean

# The `feed.format` names a subscription file may use. They are the file's vocabulary, so
# they are declared here; `notifier.feeds.registry` has one parser for each (a test holds
# the two to each other). `auto` tells the format from the document.
FEED_FORMATS = frozenset(
    {
        "atom", "aws-json", "aws-rss", "azure-rss", "gcp-atom", "gcp-json", "incidentio-rss",
        "meta-history-json", "meta-orgs-json", "microsoft-portal-json", "microsoft-posts-json",
        "microsoft-rss", "xbox-json", "xbox-xml",
        "rss", "slack-json", "statuspage-atom", "statuspage-json", "statuspage-rss", "auto",
    }
)  # fmt: skip


ASSUMED_BASIS = "assumed dependency"
CONFIG_BASIS = "your configuration"


@dataclass(frozen=True, slots=True)
class Dependency:
    """One upstream edge of the dependency graph, from the catalog or the file."""

    provider: str
    regions: tuple[str, ...] = ()
    source: str = ""  # "catalog: <citation>" or "config"
    # Alert wording for why the edge is believed: the catalog's label ("public
    # partnership"), "assumed dependency", or "your configuration".
    basis: str = ""


class FeedSpec(Strict):
    url: str | None = Field(None, description="Feed URL; overrides the catalog's.")
    format: str | None = Field(None, description="Parser format name; overrides the catalog's.")

    @field_validator("url")
    @classmethod
    def _http(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://[^\s/]+", v):
            raise ValueError(f"{v!r} is not an http(s) URL")
        return v


class DependencySpec(Strict):
    provider: str = Field(description="Id of the upstream provider (catalog or providers:).")
    regions: tuple[str, ...] = Field(
        (), description="Only the upstream's incidents in these regions matter (empty: any)."
    )
    confidence: Literal["stated", "assumed", "observed"] = Field(
        "stated",
        description="As in the catalog: `assumed` (nobody stated it; alerts say so), or "
        "`observed`: learned from the incident history (`notifier deps suggest --accept`), "
        "with its `evidence`, which alerts quote.",
    )
    evidence: str = Field(
        "",
        description="For an observed edge: what was seen, e.g. '7 of 9 Azure incidents "
        "were followed by an OpenAI incident within 90 min'.",
    )

    @_model_validator(mode="before")
    @classmethod
    def _from_id(cls, v: Any) -> Any:
        return {"provider": v} if isinstance(v, str) else v

    @_model_validator(mode="after")
    def _observed_has_evidence(self) -> DependencySpec:
        if self.confidence == "observed" and not self.evidence.strip():
            raise ValueError(f"edge to {self.provider}: an observed edge needs `evidence:`")
        return self

    def edge(self) -> Dependency:
        """The graph's edge: the file's word, or what the history showed."""
        if self.confidence == "observed":
            return Dependency(self.provider, tuple(self.regions), "config: observed",
                              f"observed: {self.evidence.strip()}")  # fmt: skip
        if self.confidence == "assumed":
            return Dependency(self.provider, tuple(self.regions), "config: assumed",
                              ASSUMED_BASIS)  # fmt: skip
        return Dependency(self.provider, tuple(self.regions), "config", CONFIG_BASIS)


class ProbeHeader(Strict):
    name: str = Field(description="Header name, e.g. Authorization.")
    value_env: EnvName = Field(
        description="Environment variable holding the header's value (a secret: never printed)."
    )

    @field_validator("name")
    @classmethod
    def _token(cls, v: str) -> str:
        if not re.match(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$", v):
            raise ValueError(f"{v!r} is not an HTTP header name")
        return v


class ProbeSpec(Strict):
    """One synthetic probe of a provider's own endpoint (none by default: sending
    traffic to another company is the user's decision)."""

    url: str = Field(description="http(s) URL probed with HEAD or GET.")
    method: Literal["GET", "HEAD"] = Field("GET", description="HEAD or GET; nothing else.")
    expect_status: list[int] = Field(
        default_factory=lambda: [200], min_length=1, description="Statuses that count as up."
    )
    interval: int = Field(30, ge=1, le=3600, description="Seconds between probes.")
    timeout: float = Field(5.0, gt=0, le=60, description="Seconds before a probe times out.")
    failures_to_alert: int = Field(
        3, ge=1, le=100, description="Consecutive failures before the early warning."
    )
    header: ProbeHeader | None = Field(
        None, description="One header from an environment variable (no credentials otherwise)."
    )

    @field_validator("url")
    @classmethod
    def _http(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v) or split_clean(v) is None:
            raise ValueError(f"{v!r} is not an http(s) URL")
        return v


class ProviderConfig(Strict):
    id: str = Field(description="Catalog id, or your own id for a custom provider.")
    name: str | None = Field(
        None, description="Display name; required when id is not in the catalog."
    )
    feed: FeedSpec | None = Field(
        None,
        description="Status feed; required when id is not in the catalog and no `page` is given.",
    )
    page: str | None = Field(
        None,
        description=(
            "Status page address a person visits (https://status.vendor.com): the feed is "
            "discovered from it, remembered, and found again when the page moves."
        ),
    )
    poll_interval: int | None = Field(None, ge=1, description="Seconds between polls (default 60).")
    depends_on: list[DependencySpec] = Field(
        default_factory=list, description="Upstreams, added to the catalog's edges."
    )
    components: list[str] = Field(
        default_factory=list,
        description="Only alerts touching these components, for every subscriber (empty: all).",
    )
    active_poll_interval: int | None = Field(
        None,
        ge=1,
        description="Seconds between polls while it or an upstream has an open incident "
        "(default 15; never slower than poll_interval).",
    )
    webhook_token: SecretStr | None = Field(
        None,
        description="Accept Statuspage webhooks at /hooks/statuspage/<id>/<token> "
        "(a secret: never printed).",
    )
    webhook_token_env: EnvName | None = Field(
        None, description="Environment variable holding the webhook token instead."
    )
    probes: list[ProbeSpec] = Field(
        default_factory=list, description="Synthetic probes of the provider (default: none)."
    )

    @_model_validator(mode="after")
    def _one_token(self) -> ProviderConfig:
        if self.webhook_token is not None and self.webhook_token_env is not None:
            raise ValueError("set at most one of `webhook_token` and `webhook_token_env`")
        token = self.webhook_token.get_secret_value() if self.webhook_token else None
        if token is not None and not re.match(r"^[A-Za-z0-9_-]{16,200}$", token):
            # The value is a secret: the message describes it, never quotes it.
            raise ValueError(
                "`webhook_token` must be 16 to 200 letters, digits, - or _ (not shown: a secret)"
            )
        return self

    @_model_validator(mode="after")
    def _env_token_long(self) -> ProviderConfig:
        token = env_secret(self.webhook_token_env)
        if token is not None and not re.match(r"^[A-Za-z0-9_-]{16,200}$", token.get_secret_value()):
            raise ValueError(
                f"the webhook token in ${self.webhook_token_env} must be 16 to 200 letters, "
                "digits, - or _ (not shown: a secret)"
            )
        return self

    @field_validator("page")
    @classmethod
    def _page_http(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://[^\s/]+", v):
            raise ValueError(f"{v!r} is not an http(s) URL")
        return v

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not re.match(r"^[a-z0-9][a-z0-9_-]*$", v):
            raise ValueError(f"{v!r} is not a provider id (lowercase letters, digits, - and _)")
        return v


class ServiceConfig(Strict):
    depends_on: list[DependencySpec] = Field(description="Providers this service of yours uses.")
    description: str = Field("", description="What the service is, for alert text.")

"""The subscription file's schema (pydantic v2). Loaded by `notifier.config.load.load_config`.

Every model forbids unknown keys, so a typo is an error rather than a silently
ignored setting. Rules inside one block (exactly one of `to` and `rotation`) live
here; rules across the file (does the rotation exist?) live in `notifier.config.load`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, time
from functools import cached_property
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
)
from pydantic import model_validator as _model_validator

from notifier.config.catalog import Catalog, CatalogDependency
from notifier.config.suggest import closest, quote
from notifier.models import EventKind
from notifier.safeurl import split_clean

ChannelName = Literal["slack", "sms", "email", "pagerduty", "opsgenie", "webhook", "apprise"]
CHANNELS: tuple[ChannelName, ...] = ChannelName.__args__  # type: ignore[attr-defined]
ImpactName = Literal["none", "minor", "major", "critical"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[str, ...] = Weekday.__args__  # type: ignore[attr-defined]

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_ENV = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


class Strict(BaseModel):
    # Inputs stay out of ValidationError text: a webhook URL in them is a secret.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


def _phone(value: str) -> str:
    if not _E164.match(value):
        raise ValueError(f"{value!r} is not an E.164 phone number (like +12025550100)")
    return value


def _tz(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        match = closest(value, available_timezones())
        fix = f"did you mean {match!r}?" if match else "use an IANA name like Europe/Berlin"
        raise ValueError(f"unknown time zone {quote(value)}; {fix}") from None
    return value


def _hhmm(value: Any) -> time:
    if isinstance(value, int):  # YAML 1.1 reads unquoted 09:00 as sexagesimal 540
        value = f"{value // 60:02d}:{value % 60:02d}"
    if isinstance(value, time):
        return value
    m = _HHMM.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a time of day as HH:MM (24-hour)")
    return time(int(m.group(1)), int(m.group(2)))


def parse_weekday(value: str | int) -> int:
    """Monday = 0 ... Sunday = 6, from a day number or a name of at least three letters
    in any case ("tue", "Tuesday"); ValueError otherwise."""
    if isinstance(value, int):
        if not 0 <= value <= 6:
            raise ValueError(f"weekday {value} is not 0 (Monday) to 6 (Sunday)")
        return value
    name = value.strip().lower()
    for i, day in enumerate(WEEKDAYS):
        if day.startswith(name[:3]) and len(name) >= 3:
            return i
    raise ValueError(f"unknown weekday {value!r}")


def parse_time(value: str | time) -> time:
    """A time of day from "H[:MM]" (lenient; the file's own times are `HHMM`)."""
    if isinstance(value, time):
        return value
    hours, _, minutes = value.strip().partition(":")
    return time(int(hours), int(minutes or 0))


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _webhook_ok(url: str) -> bool:
    """https with a host; plain http only to this machine (a local relay or test fake),
    where the secret never crosses a network."""
    parts = split_clean(url)
    if parts is None:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)


SECRET_NOT_NAME = "this looks like a secret, not a variable name"


def looks_like_secret(value: str) -> bool:
    """Whether a value given where an environment variable NAME belongs looks like the
    secret itself (a pasted routing key, token or URL). Names are words: PD_ROUTING_KEY."""
    if any(c in value for c in ":/@.-") or len(value) > 64:
        return True
    digits = sum(c.isdigit() for c in value)
    lower, upper = any(c.islower() for c in value), any(c.isupper() for c in value)
    if len(value) >= 16 and "_" not in value and digits >= 3:
        return True  # a hex or base62 key: 32 hex characters, a UUID without dashes
    return len(value) >= 20 and lower and upper and digits >= 3


def _env_name(value: str) -> str:
    # The value is never quoted back: what was given may be the secret itself.
    if looks_like_secret(value):
        raise ValueError(f"{SECRET_NOT_NAME} (not shown); name its variable, like PD_KEY")
    if not _ENV.match(value):
        raise ValueError("not an environment variable name (not shown); like PD_ROUTING_KEY")
    return value


Phone = Annotated[str, AfterValidator(_phone)]
# The name of an environment variable that holds a secret: the file names it, never holds it.
EnvName = Annotated[str, AfterValidator(_env_name)]
TimeZoneName = Annotated[str, AfterValidator(_tz)]
HHMM = Annotated[time, BeforeValidator(_hhmm)]


# ---- providers ----------------------------------------------------------------

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


# ---- on-call -------------------------------------------------------------------


class Member(Strict):
    name: str = Field(description="Person's name, shown in escalations.")
    phone: Phone = Field(description="E.164 phone number for SMS pages.")


class Handoff(Strict):
    weekday: Weekday = Field("monday", description="Day the next member takes over.")
    time: HHMM = Field(time(9, 0), description="HH:MM local time of the handoff.")
    timezone: TimeZoneName = Field("UTC", description="IANA time zone of the handoff time.")


class Rotation(Strict):
    """One rotation as the file states it. Who is on call when, and the escalation
    order and delay, are on-call policy: `notifier.route.oncall` reads this model."""

    members: list[Member] = Field(min_length=1, description="On-call order; one per week.")
    handoff: Handoff = Field(Handoff.model_validate({}), description="When the week turns over.")
    start: date | None = Field(
        None, description="Date of a handoff at which members[0] was on call (default 1970-01-05)."
    )
    escalate_after_minutes: int | None = Field(
        None, ge=1, description="Page the next member if nobody acknowledges within this."
    )


class Oncall(Strict):
    rotations: dict[str, Rotation] = Field(default_factory=dict, description="Named rotations.")


# ---- subscribers ---------------------------------------------------------------


class SlackRoute(Strict):
    channel: str | None = Field(
        None, description="Channel name (#ops) or id, posted with the bot token."
    )
    webhook_url: SecretStr | None = Field(
        None, description="Incoming webhook URL, https:// (a secret: never printed)."
    )

    @field_validator("webhook_url")
    @classmethod
    def _https(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not _webhook_ok(v.get_secret_value()):
            # The value is a secret: the message describes it, never quotes it.
            raise ValueError(
                "must be an https:// URL with a host and no spaces, like "
                "https://hooks.slack.com/services/… (not shown: a secret)"
            )
        return v

    @_model_validator(mode="after")
    def _one(self) -> SlackRoute:
        if (self.channel is None) == (self.webhook_url is None):
            raise ValueError("exactly one of `channel` and `webhook_url` must be set")
        if self.channel is not None and "://" in self.channel:
            # Most likely a webhook URL under the wrong key: a secret, so not quoted.
            raise ValueError("`channel` is a name or id; put a webhook URL under `webhook_url`")
        if self.channel is not None and not re.match(r"^#?[\w.-]{1,80}$", self.channel):
            raise ValueError(f"{self.channel!r} is not a Slack channel name or id")
        return self


class SmsRoute(Strict):
    to: list[Phone] | None = Field(None, description="E.164 numbers paged directly.")
    rotation: str | None = Field(None, description="Name of an oncall rotation to page.")

    @_model_validator(mode="after")
    def _one(self) -> SmsRoute:
        if (self.to is None) == (self.rotation is None):
            raise ValueError("exactly one of `to` and `rotation` must be set")
        if self.to is not None and not self.to:
            raise ValueError("`to` must list at least one number")
        return self


class EmailRoute(Strict):
    to: list[str] = Field(min_length=1, description="Recipient addresses.")

    @field_validator("to")
    @classmethod
    def _emails(cls, v: list[str]) -> list[str]:
        for x in v:
            if not _EMAIL.match(x):
                raise ValueError(f"{x!r} is not an email address")
        return v


class PagerDutyRoute(Strict):
    routing_key_env: EnvName = Field(
        description="Environment variable holding the PagerDuty Events API v2 routing key."
    )


class OpsgenieRoute(Strict):
    api_key_env: EnvName = Field(
        description="Environment variable holding the Opsgenie API integration key."
    )


class WebhookRoute(Strict):
    url: SecretStr = Field(
        description="Where the alert is POSTed as JSON: https://, or http:// to this machine "
        "(a secret: never printed)."
    )
    secret_env: EnvName | None = Field(
        None,
        description="Environment variable holding the HMAC-SHA256 key that signs each request "
        "(X-Notifier-Signature); unset: requests are not signed.",
    )

    @field_validator("url")
    @classmethod
    def _https(cls, v: SecretStr) -> SecretStr:
        if not _webhook_ok(v.get_secret_value()):
            raise ValueError(
                "must be an https:// URL with a host and no spaces, or http:// to 127.0.0.1 "
                "(not shown: a secret)"
            )
        return v


class AppriseRoute(Strict):
    urls_env: EnvName = Field(
        description="Environment variable holding one or more apprise URLs (msteams://, "
        "discord://, mmost://, tgram://, ntfy://, ...), separated by spaces or commas."
    )


class Filters(Strict):
    providers: list[str] | None = Field(None, description="Provider ids (default: all watched).")
    components: list[str] | None = Field(
        None, description="Component names, case-insensitive (incidents naming none pass)."
    )
    regions: list[str] | None = Field(
        None, description="Region names, case-insensitive (incidents naming none pass)."
    )
    min_impact: ImpactName | None = Field(None, description="Least impact that alerts.")
    events: list[EventKind] | None = Field(
        None, description="Change kinds that alert (default: all)."
    )


class QuietHours(Strict):
    start: HHMM = Field(description="HH:MM local time quiet hours begin.")
    end: HHMM = Field(description="HH:MM local time they end (may be the next day).")
    timezone: TimeZoneName = Field(description="IANA time zone of start and end.")
    mode: Literal["hold", "suppress"] = Field(
        "hold", description="hold: deliver when they end; suppress: drop (critical always goes)."
    )
    channels: list[ChannelName] | None = Field(
        None, description="Channels affected (default: all)."
    )

    @_model_validator(mode="after")
    def _nonempty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("`start` and `end` must differ")
        return self


class Digest(Strict):
    daily_at: HHMM = Field(description="HH:MM local time of the daily email digest.")
    timezone: TimeZoneName = Field("UTC", description="IANA time zone of daily_at.")


class Subscriber(Strict):
    name: str = Field(min_length=1, description="Unique name; part of alert and thread keys.")
    slack: SlackRoute | None = Field(None, description="Slack destination.")
    sms: SmsRoute | None = Field(None, description="SMS paging destination.")
    email: EmailRoute | None = Field(None, description="Email destination.")
    pagerduty: PagerDutyRoute | None = Field(
        None, description="PagerDuty (Events API v2): trigger on open, resolve on resolution."
    )
    opsgenie: OpsgenieRoute | None = Field(
        None, description="Opsgenie (Alerts API): create on open, close on resolution."
    )
    webhook: WebhookRoute | None = Field(
        None, description="Generic webhook: the alert as signed JSON."
    )
    apprise: AppriseRoute | None = Field(
        None, description="Anything apprise reaches: Teams, Discord, Mattermost, Telegram, ntfy."
    )
    fallback: ChannelName | None = Field(
        None, description="Channel used when another fails permanently."
    )
    filters: Filters = Field(Filters.model_validate({}), description="What this subscriber hears.")
    channels_filters: dict[ChannelName, Filters] = Field(
        default_factory=dict, description="Per-channel overrides of `filters`, key by key."
    )
    quiet_hours: QuietHours | None = Field(None, description="Hold or drop non-critical alerts.")
    maintenance: Literal["notify", "ignore", "only_start_and_end"] = Field(
        "notify", description="What to do with scheduled maintenance."
    )
    digest: Digest | None = Field(None, description="Daily email digest (needs email).")

    @_model_validator(mode="after")
    def _has_channel(self) -> Subscriber:
        if not self.channel_names():
            raise ValueError(
                "a subscriber needs at least one of " + ", ".join(f"`{c}`" for c in CHANNELS)
            )
        if self.digest is not None and self.email is None:
            raise ValueError("`digest` needs an `email` channel")
        return self

    def secret_env_names(self) -> list[str]:
        """The environment variables this subscriber's routes read secrets from."""
        names = [
            self.pagerduty.routing_key_env if self.pagerduty else None,
            self.opsgenie.api_key_env if self.opsgenie else None,
            self.webhook.secret_env if self.webhook else None,
            self.apprise.urls_env if self.apprise else None,
        ]
        return [n for n in names if n]

    def channel_names(self) -> list[ChannelName]:
        return [c for c in CHANNELS if getattr(self, c) is not None]

    def filters_for(self, channel: ChannelName) -> Filters:
        """`filters` with this channel's overrides applied key by key."""
        override = self.channels_filters.get(channel)
        if override is None:
            return self.filters
        changed = {k: v for k, v in override.model_dump().items() if v is not None}
        return self.filters.model_copy(update=changed)


# ---- the file ------------------------------------------------------------------


ASSUMED_BASIS = "assumed dependency"
CONFIG_BASIS = "your configuration"


def _catalog_edge(d: CatalogDependency) -> Dependency:
    if d.confidence == "assumed":
        return Dependency(
            d.provider, tuple(d.regions), "catalog: assumed, no public statement", ASSUMED_BASIS
        )
    basis = d.label or "publicly stated"
    return Dependency(d.provider, tuple(d.regions), f"catalog: {d.source}", basis)


@dataclass(frozen=True, slots=True)
class Dependency:
    provider: str
    regions: tuple[str, ...] = ()
    source: str = ""  # "catalog: <citation>" or "config"
    # Alert wording for why the edge is believed: the catalog's label ("public
    # partnership"), "assumed dependency", or "your configuration".
    basis: str = ""


@dataclass(frozen=True, slots=True)
class ResolvedProvider:
    """A watched provider with the catalog and the file merged. `components` is the
    file's component filter (empty: all)."""

    id: str
    name: str
    url: str
    format: str
    poll_interval: int
    depends_on: tuple[Dependency, ...]
    components: tuple[str, ...]
    active_poll_interval: int = 15
    webhook_token: SecretStr | None = None  # resolved from the file or its env var
    probes: tuple[ProbeSpec, ...] = ()
    # The status page the feed is discovered from; with `url` empty, the poller
    # discovers (or recalls) the feed before its first fetch.
    page: str = ""

    @property
    def discovers(self) -> bool:
        return bool(self.page) and not self.url


DEFAULT_POLL_INTERVAL = 60
DEFAULT_ACTIVE_POLL_INTERVAL = 15


def env_secret(name: str | None) -> SecretStr | None:
    """The value of environment variable `name` as a secret (None: unset or empty)."""
    value = os.environ.get(name or "", "") if name else ""
    return SecretStr(value) if value else None


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
        if self._graph is not None:
            return dict(self._graph)
        graph: dict[str, tuple[Dependency, ...]] = {}
        for pid, entry in self.catalog.providers.items():
            graph[pid] = tuple(_catalog_edge(d) for d in entry.depends_on)
        for p in self.providers:
            extra = tuple(d.edge() for d in p.depends_on)
            graph[p.id] = graph.get(p.id, ()) + extra
        self._graph = graph
        return dict(graph)

    def _resolve(self, p: ProviderConfig) -> ResolvedProvider:
        entry = self.catalog.get(p.id)
        cat_feed = entry.feed if entry is not None else None
        page = p.page or ""
        if p.page is not None:
            cat_feed = None  # the file names a page: what is found there wins over the catalog
        url = (p.feed.url if p.feed else None) or (cat_feed.url if cat_feed else None)
        fmt = (p.feed.format if p.feed else None) or (cat_feed.format if cat_feed else None)
        if url is None and not page and entry is not None and entry.discover:
            page = entry.status_page
        if url is None and page:
            url, fmt = "", fmt or "auto"  # discovered at the first poll
        if url is None or fmt is None:  # load_config rejects this; guard for direct use
            raise ValueError(f"provider {p.id!r} has no feed")
        interval = p.poll_interval or DEFAULT_POLL_INTERVAL
        return ResolvedProvider(
            id=p.id,
            name=self.provider_name(p.id),
            url=url,
            format=fmt,
            poll_interval=interval,
            depends_on=self.dependency_graph()[p.id],
            components=tuple(p.components),
            active_poll_interval=min(
                interval, p.active_poll_interval or DEFAULT_ACTIVE_POLL_INTERVAL
            ),
            webhook_token=p.webhook_token or env_secret(p.webhook_token_env),
            probes=tuple(p.probes),
            page=page,
        )


def known_provider_ids(config: Config, catalog: Catalog) -> set[str]:
    return set(catalog.providers) | {p.id for p in config.providers}

"""The subscription file's subscribers: who gets alerts, on which channels (one route
model per channel), what they hear (filters), quiet hours and the daily digest."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic import model_validator as _model_validator

from notifier.config.schema.fields import (
    CHANNELS,
    HHMM,
    ChannelName,
    EnvName,
    ImpactName,
    Phone,
    Strict,
    TimeZoneName,
    webhook_ok,
)
from notifier.models import EventKind

_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


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
        if v is not None and not webhook_ok(v.get_secret_value()):
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
        if not webhook_ok(v.get_secret_value()):
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


class DigestSchedule(Strict):
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
    digest: DigestSchedule | None = Field(None, description="Daily email digest (needs email).")

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

"""What the web endpoint needs, built once when it starts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import redis
from pydantic import SecretStr

from notifier.channels.slack.channel import SlackChannel
from notifier.channels.sms.pager import Pager
from notifier.config.schema import Config
from notifier.config.settings import Settings
from notifier.history.db import database_url
from notifier.pipeline.runtime.health import Health, Limits, observe, watched_of


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class WebWiring:
    """The web endpoint's connections, stores and settings, shared by every route
    (`request.app.state.ctx`)."""

    client: redis.Redis
    prefix: str
    broker_prefix: str
    limits: Limits
    pager: Pager | None = None
    twilio_token: SecretStr | None = None
    public_url: str = ""
    web_token: SecretStr | None = None
    read_timeout: float = 10.0
    heartbeat_url: SecretStr | None = None
    heartbeat_every: float = 60.0
    clock: Callable[[], datetime] = field(default=utcnow)
    config: Config | None = None  # the subscription file, for names and the console
    config_path: Path | None = None  # the subscription file `POST /-/reload` re-reads
    slack_signing_secret: SecretStr | None = None  # verifies Slack's "Acknowledge" presses
    slack: SlackChannel | None = None  # answers them in the incident's thread
    database_url: str = ""  # the history database (`notifier.history.db`); "": none
    redis_url: str | None = None  # names the primary in use in /healthz and /metrics

    @classmethod
    def from_settings(
        cls, settings: Settings, client: redis.Redis, pager: Pager | None,
        config: Config | None = None, redis_url: str | None = None,
    ) -> WebWiring:  # fmt: skip
        return cls(
            redis_url=redis_url,
            client=client,
            prefix=settings.key_prefix,
            broker_prefix=settings.broker_prefix,
            limits=Limits.from_settings(settings),
            pager=pager,
            twilio_token=settings.twilio_auth_token,
            public_url=(settings.web_public_url or "").rstrip("/"),
            web_token=settings.web_token,
            read_timeout=settings.web_read_timeout,
            heartbeat_url=settings.heartbeat_url,
            heartbeat_every=settings.heartbeat_url_interval,
            config=config,
            config_path=settings.config_path(),
            slack_signing_secret=settings.slack_signing_secret,
            slack=SlackChannel(
                token=settings.slack_token,
                api_url=settings.slack_api_url,
                timeout=settings.slack_timeout,
            )
            if settings.slack_token is not None
            else None,
            database_url=database_url(settings),
        )

    def health(self) -> Health:
        # The file in force now: a reload changes what is watched.
        return observe(self.client, self.prefix, self.limits, self.clock(),
                       watched_of(self.config), self.redis_url)  # fmt: skip

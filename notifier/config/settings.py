"""Process settings from the environment (prefix NOTIFIER_) and an optional `.env`.

Secrets are `SecretStr`: their repr is '**********' and they reach a client
only through `.get_secret_value()` at the call site.
"""

from __future__ import annotations

import ipaddress
from functools import cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

EXAMPLE_CONFIG = Path("config/subscriptions.example.yaml")
DEFAULT_CONFIG = Path("config/subscriptions.yaml")
MIN_TOKEN = 16  # characters of NOTIFIER_WEB_TOKEN and of every webhook token


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="NOTIFIER_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    redis_url: str | None = Field(
        None,
        description="State store (and broker, unless NOTIFIER_BROKER_URL): redis://, rediss://, "
        "unix:// or redis+sentinel://[:password@]host1:26379,host2:26379/<master>/<db>. "
        "Unset: a private embedded Redis under data_dir.",
    )
    broker_url: str | None = Field(
        None,
        description="Celery's broker, when it is not the state Redis (same URL forms). "
        "Unset: the state Redis.",
    )
    redis_failover_wait: float = Field(
        45.0,
        ge=0,
        description="Seconds a command waits for Sentinel to name a new primary before it "
        "fails (retried with a backoff of at most 1 s).",
    )
    config: Path | None = Field(
        None,
        description="Subscription file. Default: config/subscriptions.yaml (`notifier init` "
        "writes it); in a checkout without one, config/subscriptions.example.yaml.",
    )
    data_dir: Path = Field(
        Path(".notifier"),
        description="The private Redis's data and socket, and the marker that tells a Redis "
        "that lost its data (so nothing is sent again): keep it on a volume.",
    )
    key_prefix: str = Field("notifier", description="Prefix of every Redis key this service owns.")
    log_level: str = Field("INFO", description="Python logging level.")
    log_json: bool = Field(False, description="Log one JSON object per line.")

    slack_token: SecretStr | None = Field(None, description="Slack bot token (xoxb-...).")
    slack_api_url: str = Field("https://slack.com/api/", description="Slack Web API base URL.")
    slack_webhook_url: SecretStr | None = Field(None, description="Slack incoming webhook URL.")
    slack_timeout: float = Field(
        10.0,
        gt=0,
        description="Seconds the Slack client waits for the answer to one request. After a "
        "worker dies, an alert whose post was on its way waits this long and 2 s more from "
        "the post's start (the post may still land) before it is looked up and sent again. "
        "A lower value only suits tests.",
    )
    slack_signing_secret: SecretStr | None = Field(
        None,
        description='Slack app signing secret: verifies the "Acknowledge" button\'s requests '
        "to POST /hooks/slack/interactivity (unset: every such request gets 401).",
    )

    twilio_account_sid: str | None = Field(None, description="Twilio account SID (AC...).")
    twilio_auth_token: SecretStr | None = Field(None, description="Twilio auth token.")
    twilio_from: str | None = Field(None, description="Sending phone number, E.164.")
    twilio_api_url: str | None = Field(
        None,
        description="Twilio REST base URL override, e.g. a local fake (default api.twilio.com).",
    )
    web_public_url: str | None = Field(
        None,
        # NOTIFIER_PUBLIC_URL is its older name, still read.
        validation_alias=AliasChoices(
            "NOTIFIER_WEB_PUBLIC_URL", "NOTIFIER_PUBLIC_URL", "web_public_url"
        ),
        description="The URL `notifier web` is reached by, e.g. https://notifier.example.com "
        "(formerly NOTIFIER_PUBLIC_URL). Its host is the one Host name the web endpoint answers "
        "besides loopback and the bind address (any other gets 421); Twilio signatures are "
        "checked against it.",
    )

    pagerduty_api_url: str = Field(
        "https://events.pagerduty.com",
        description="PagerDuty Events API base URL (a local fake in tests).",
    )
    opsgenie_api_url: str = Field(
        "https://api.opsgenie.com",
        description="Opsgenie API base URL; https://api.eu.opsgenie.com for the EU instance.",
    )

    smtp_host: str | None = Field(None, description="SMTP server host.")
    smtp_port: int = Field(587, description="SMTP port (465 implies implicit TLS).")
    smtp_username: str | None = Field(None, description="SMTP user.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_from: str = Field("notifier@localhost", description="From address.")
    smtp_starttls: bool = Field(True, description="Upgrade with STARTTLS (ignored on port 465).")
    smtp_ssl: bool = Field(False, description="Implicit TLS from the first byte.")

    sms_rate_limit_per_hour: int = Field(
        10, ge=1, description="SMS cap per phone number per hour; the last says more are held back."
    )

    # Delivery engine: how much a worker sends at once, and the vendors' documented limits.
    delivery_in_flight: int = Field(
        32,
        ge=1,
        le=256,
        description="Vendor requests one delivery worker process keeps in flight at once "
        "(its sending threads); a fan-out is queued in chunks of twice this many alerts.",
    )
    slack_channel_rate: float = Field(
        1.0,
        gt=0,
        description="Messages per second posted to one Slack channel (Slack documents about "
        "1 per second per channel for chat.postMessage); more wait their turn.",
    )
    slack_channel_burst: int = Field(
        4, ge=1, description="Messages one Slack channel may get at once before its rate applies."
    )
    twilio_rate: float = Field(
        1.0,
        gt=0,
        description="SMS per second from the sending number (Twilio queues about 1 per "
        "second per long code; a toll-free or short code allows more).",
    )
    twilio_burst: int = Field(
        5, ge=1, description="SMS the sending number may send at once before its rate applies."
    )
    smtp_max_sessions: int = Field(
        4, ge=1, description="SMTP sessions one worker process keeps open at most."
    )

    http_timeout: float = Field(10.0, description="Feed read timeout in seconds.")
    http_connect_timeout: float = Field(5.0, description="Feed connect timeout in seconds.")
    poll_lease: float = Field(
        120.0,
        gt=0,
        description="Seconds a poll holds its provider's lease: a worker killed mid-poll holds "
        "back that provider's polls this long. Keep it above the longest poll "
        "(NOTIFIER_HTTP_TIMEOUT and the rest); a poll that outlives it commits nothing and the "
        "next one reads the feed again. A lower value only suits tests.",
    )
    max_feed_bytes: int = Field(5_000_000, description="Largest feed body accepted, decompressed.")
    fetch_allow_networks: str = Field(
        "",
        description="Comma-separated CIDRs (10.0.0.0/8, 127.0.0.1/32) feeds, discovery, "
        "history lookups and probes may connect to beyond the public internet. Unset: "
        "loopback, private, link-local (cloud metadata), CGNAT, multicast and unspecified "
        "addresses are refused, checked on the address each name resolves to.",
    )
    max_new_incidents_per_poll: int = Field(
        50,
        ge=1,
        description="New incidents one feed document may bring before they become one "
        '"feed flood" alert naming the count (the diff still records each of them).',
    )
    feed_failure_threshold: int = Field(
        3, description="Consecutive failures before a status page counts as unreachable."
    )
    visibility_timeout: int = Field(
        60,
        ge=1,
        description="Seconds before the broker redelivers the unacknowledged tasks of a "
        "killed worker process. Keep it above 30 (the longest infrastructure retry "
        "countdown); a lower value only suits tests.",
    )
    retry_base: float = Field(
        5.0,
        gt=0,
        description="Seconds of backoff before a failed delivery's first retry when the "
        "vendor gave no Retry-After; each retry may wait up to twice the last (full jitter, "
        "at most 15 min). A lower value only suits tests.",
    )
    web_host: str = Field(
        "127.0.0.1",
        description="Bind address of the web endpoint (`notifier run`, `notifier web`).",
    )
    web_port: int = Field(
        8080, description="Port of the web endpoint (`notifier run`, `notifier web`)."
    )
    web_token: SecretStr | None = Field(
        None,
        description="Token every page but /healthz and the signed Twilio webhook requires "
        "(bearer, or basic auth with it as the password), at least 16 characters. Required "
        "to bind beyond loopback.",
    )
    web_read_timeout: float = Field(
        10.0, gt=0, description="Seconds a client may take to send its request body."
    )

    heartbeat_interval: float = Field(
        5.0,
        gt=0,
        description="Seconds between the beat's and each worker's heartbeats in Redis; "
        "one older than 3 of these is stale.",
    )
    beat_lock_timeout: int = Field(
        5,
        ge=2,
        description="Seconds the active beat's lock lasts unless renewed (every second): a "
        "standby beat, or a restarted one, takes over this long after the active beat died "
        "or froze. A lower value only suits tests.",
    )
    due_max_age: float = Field(
        120.0, gt=0, description="Seconds a due alert may wait undelivered before /healthz fails."
    )
    feeds_blind_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="/healthz fails (and the dead man's switch stops) when more than this "
        "share of watched providers have had no good poll for 3 poll intervals.",
    )
    heartbeat_url: SecretStr | None = Field(
        None,
        description="Dead man's switch: a URL (healthchecks.io, Cronitor) called while healthy.",
    )
    heartbeat_url_interval: float = Field(
        60.0, gt=0, description="Seconds between calls of NOTIFIER_HEARTBEAT_URL."
    )
    restart_limit: int = Field(
        5,
        ge=1,
        description="Deaths of one child within NOTIFIER_RESTART_WINDOW that make "
        "`notifier run` give up and exit non-zero.",
    )
    restart_window: float = Field(
        600.0, gt=0, description="Seconds over which `notifier run` counts a child's deaths."
    )
    redis_grace: float = Field(
        120.0,
        gt=0,
        description="Seconds `notifier run|worker|beat` wait for an unreachable Redis "
        "before they exit non-zero.",
    )

    @field_validator("web_token")
    @classmethod
    def _long_token(cls, v: SecretStr | None) -> SecretStr | None:
        value = v.get_secret_value() if v is not None else ""
        if value and len(value.strip()) < MIN_TOKEN:
            # A secret: the message describes it, never quotes it.
            raise ValueError(f"must be at least {MIN_TOKEN} characters (not shown: a secret); "
                             "make one with `openssl rand -hex 24`")  # fmt: skip
        return v

    @field_validator("fetch_allow_networks")
    @classmethod
    def _networks_read(cls, value: str) -> str:
        for item in (i.strip() for i in value.split(",")):
            if item:
                try:
                    ipaddress.ip_network(item, strict=False)
                except ValueError:
                    raise ValueError(
                        f"{item[:60]!r} is not a network in CIDR form (10.0.0.0/8)"
                    ) from None
        return value

    def allowed_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """NOTIFIER_FETCH_ALLOW_NETWORKS, read (the validator vouches for each entry)."""
        items = (i.strip() for i in self.fetch_allow_networks.split(","))
        return tuple(ipaddress.ip_network(i, strict=False) for i in items if i)

    database_url: SecretStr | None = Field(
        None,
        description="History database (postgresql+psycopg://user:pass@host/db). Unset: SQLite "
        "at <data_dir>/history.sqlite3.",
    )
    history_retention_days: int = Field(
        730, ge=1, description="Days the history database keeps incidents, alerts and pages."
    )
    alert_payload_days: float = Field(
        3.0, gt=0, le=30,
        description="Days a finished alert keeps its payload and delivery log in Redis; after "
        "that a short marker stays (30 days) so it is never sent again and the console still "
        "lists it. The history database keeps every row.",
    )  # fmt: skip
    history_batch: int = Field(
        500, ge=1, le=10_000, description="Outbox entries written to the database per transaction."
    )

    @property
    def broker_prefix(self) -> str:
        """Every key Celery's Redis transport makes starts with this (kombu global_keyprefix)."""
        return f"{self.key_prefix}:celery:"

    def secret_values(self) -> list[str]:
        """Plain values of every secret, for the log redaction filter."""
        secrets = [
            self.slack_token,
            self.slack_webhook_url,
            self.slack_signing_secret,
            self.twilio_auth_token,
            self.smtp_password,
            self.web_token,
            self.heartbeat_url,
            self.database_url,
        ]
        return [s.get_secret_value() for s in secrets if s is not None and s.get_secret_value()]

    def config_path(self) -> Path:
        """NOTIFIER_CONFIG; else config/subscriptions.yaml; else, in a checkout, the
        example; else config/subscriptions.yaml all the same, which `notifier init` writes
        (and which a command then reports missing, saying so)."""
        if self.config is not None:
            return self.config
        if not DEFAULT_CONFIG.exists() and EXAMPLE_CONFIG.exists():
            return EXAMPLE_CONFIG
        return DEFAULT_CONFIG


@cache
def get_settings() -> Settings:
    return Settings()

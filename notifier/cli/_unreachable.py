"""The one line of a Redis that cannot be reached or refused us: which Redis (password
hidden), what went wrong, and what to do about it. `notifier.cli.main` prints it for
whichever command met the failure."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import redis

from notifier.cli._shared import REDIS_ADVICE
from notifier.config.settings import get_settings
from notifier.store.conn.url import private_socket, redacted
from notifier.text import one_line


def redis_failure(exc: redis.RedisError) -> str:
    """One line: which Redis (password hidden), what went wrong, and what to do about it."""
    settings = get_settings()
    # The Redis a command talks to is the one resolve_redis_url() picked: the configured
    # URL, else our private server's socket (which answered a moment ago).
    configured = settings.redis_url
    url = configured or f"unix://{private_socket(settings.data_dir)}"
    reason = one_line(str(exc)).rstrip(".")
    if configured:
        # redis-py's messages name the host, never the password; hide it anyway.
        password = _password(configured)
        if password:
            reason = reason.replace(password, "***")
    where = redacted(url)
    if isinstance(exc, redis.AuthenticationError):
        return f"Redis at {where} refused us ({reason}). Check the password in NOTIFIER_REDIS_URL"
    return f"cannot reach Redis at {where} ({reason}). {REDIS_ADVICE}"


def _password(url: str) -> str | None:
    parsed = urlparse(url)
    in_query = parse_qs(parsed.query).get("password")
    return parsed.password or (in_query[0] if in_query else None)

"""A Redis address as the service reads it: one server (`redis://`, `rediss://`,
`unix://`) or a primary found through Redis Sentinel.

The Sentinel form is
`redis+sentinel://[:password@]host1:26379,host2:26379,host3:26379/<master name>/<db>`;
the password is the primary's (and its replicas'). Sentinels that want a password of their
own take `?sentinel_password=...`; `?ssl=true` speaks TLS to the primary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlparse

SENTINEL_SCHEME = "redis+sentinel"
DIRECT_SCHEMES = ("redis", "rediss", "unix")
DEFAULT_SENTINEL_PORT = 26379


class RedisUrlError(ValueError):
    """An address the service cannot read; the message says what a good one looks like."""


@dataclass(frozen=True)
class SentinelAddress:
    sentinels: tuple[tuple[str, int], ...]
    master: str
    db: int = 0
    password: str | None = field(default=None, repr=False)
    sentinel_password: str | None = field(default=None, repr=False)
    ssl: bool = False

    def describe(self) -> str:
        hosts = ",".join(f"{h}:{p}" for h, p in self.sentinels)
        return f"{SENTINEL_SCHEME}://{hosts}/{self.master}/{self.db}"


def is_sentinel(url: str) -> bool:
    return url.split("://", 1)[0].lower() == SENTINEL_SCHEME


def check(url: str) -> None:
    """Raise RedisUrlError unless `url` is an address the service can use."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == SENTINEL_SCHEME:
        parse_sentinel(url)
    elif scheme not in DIRECT_SCHEMES:
        raise RedisUrlError(
            f"NOTIFIER_REDIS_URL must start with redis://, rediss://, unix:// or "
            f"{SENTINEL_SCHEME}:// (got {scheme or 'no scheme'!r})"
        )


def parse_sentinel(url: str) -> SentinelAddress:
    parsed = urlparse(url)
    if parsed.scheme.lower() != SENTINEL_SCHEME:
        raise RedisUrlError(f"not a {SENTINEL_SCHEME}:// URL")
    netloc = parsed.netloc
    password = None
    if "@" in netloc:
        auth, netloc = netloc.rsplit("@", 1)
        password = unquote(auth.split(":", 1)[1]) if ":" in auth else unquote(auth)
    sentinels = tuple(_host_port(part) for part in netloc.split(",") if part)
    parts = [p for p in parsed.path.split("/") if p]
    if not sentinels or not parts or len(parts) > 2:
        raise RedisUrlError(
            f"a Sentinel URL reads {SENTINEL_SCHEME}://[:password@]host1:26379,host2:26379/"
            "<master name>/<db>"
        )
    try:
        db = int(parts[1]) if len(parts) == 2 else 0
    except ValueError:
        raise RedisUrlError(
            f"the database in a Sentinel URL is a number, not {parts[1]!r}"
        ) from None
    query = dict(parse_qsl(parsed.query))
    return SentinelAddress(
        sentinels=sentinels,
        master=unquote(parts[0]),
        db=db,
        password=password or None,
        sentinel_password=query.get("sentinel_password") or None,
        ssl=query.get("ssl", "").lower() in ("1", "true", "yes"),
    )


def _host_port(part: str) -> tuple[str, int]:
    host, _, port = part.rpartition(":") if part.count(":") == 1 else (part, "", "")
    try:
        return host, int(port) if port else DEFAULT_SENTINEL_PORT
    except ValueError:
        raise RedisUrlError(f"a sentinel's port is a number, not {port!r}") from None

"""Which Redis this process talks to, and the same address in each client's dialect.

Order: NOTIFIER_REDIS_URL; else the private server under the data dir if one of
ours is already answering there (`notifier worker` and `notifier beat` share it);
else none, and `notifier run` starts one.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlparse

from notifier.store.conn.connect import celery_broker
from notifier.store.conn.server import answers

_SECRET_PARAMS = ("password", "sentinel_password")


def private_socket(data_dir: Path) -> Path:
    return (data_dir / "redis" / "redis.sock").resolve()


def resolve_redis_url(configured: str | None, data_dir: Path) -> str | None:
    if configured:
        return configured
    sock = private_socket(data_dir)
    url = f"unix://{sock}"
    if sock.exists() and answers(url):
        return url
    return None


def broker_url(redis_url: str) -> str:
    """Celery's broker URL for `redis_url` (kombu's spelling of the same address)."""
    return celery_broker(redis_url)[0]


def redacted(redis_url: str) -> str:
    """The URL without its password, for logs and error messages. redis-py reads a password
    from the userinfo (`redis://:pw@host`) and from the query (`unix:///s?password=pw`)."""
    parsed = urlparse(redis_url)
    out = redis_url  # edited in place: urlunparse would turn `unix:///s` into `unix:/s`
    if parsed.password:
        out = out.replace(f":{parsed.password}@", ":***@", 1)
    if parsed.query:
        pairs = parse_qsl(parsed.query, keep_blank_values=True)
        if any(k in _SECRET_PARAMS for k, _ in pairs):
            hidden = [(k, "***" if k in _SECRET_PARAMS else v) for k, v in pairs]
            out = out.replace(f"?{parsed.query}", f"?{urlencode(hidden, safe='*/')}", 1)
    return out

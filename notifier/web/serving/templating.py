"""The Jinja2 environment every page renders with: autoescaped, so feed text shows as
text, and the templates and static files shipped in the package."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import jinja2
from starlette.templating import Jinja2Templates

from notifier.safeurl import split_clean

HERE = Path(__file__).parent.parent  # notifier/web: its templates/ and static/
STATIC = HERE / "static"


def utc(t: datetime | None, fmt: str = "%d %b %H:%M UTC") -> str:
    return t.astimezone(UTC).strftime(fmt) if t else "never"


def age(t: datetime | None, now: datetime) -> str:
    """`42 s ago`, `5 min ago`, `3 h ago`, `2 d ago`."""
    if t is None:
        return "never"
    s = max(0, int((now - t).total_seconds()))
    if s < 90:
        return f"{s} s ago"
    if s < 90 * 60:
        return f"{s // 60} min ago"
    if s < 36 * 3600:
        return f"{s // 3600} h ago"
    return f"{s // 86400} d ago"


def web_link(url: str | None) -> str:
    """A feed's link, only when it is plain http(s): `javascript:` and the like are
    dropped (escaping alone would not stop them)."""
    parts = split_clean(url or "")
    return url or "" if parts is not None and parts.scheme in ("http", "https") else ""


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["utc"] = utc
    env.filters["web_link"] = web_link
    env.globals["age"] = age
    return env


TEMPLATES = Jinja2Templates(env=environment())

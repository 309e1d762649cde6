"""Everything else through apprise (pinned): Microsoft Teams, Discord, Mattermost,
Telegram, ntfy and the ~100 other services it speaks, with apprise's own URL syntax.

`apprise: {urls_env: APPRISE_URLS}` names an environment variable holding one or more
apprise URLs (they carry tokens: secrets), separated by spaces or commas. Each URL is
a target of its own, so a retry after a partial failure sends only to those that
failed. The alert goes as plain text (the console's rendering), title and body.

apprise reports an outcome per service, not an exception: a refused URL is permanent;
a failure whose log names an HTTP status is classified like any HTTP channel (429, 408
and 5xx retry, other 4xx permanent); anything else (connection refused, timeout)
retries.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from types import ModuleType
from typing import ClassVar

from notifier.channels.base import Channel, DeliveryError, SendResult, Target, redact
from notifier.channels.console.text import text_lines
from notifier.channels.httpjson import env_named
from notifier.channels.render import Presentation, truncate
from notifier.config.schema.subscribers import Subscriber
from notifier.models import Alert, Impact

BODY_MAX = 4000  # apprise splits or trims further for services with smaller limits
TITLE_MAX = 250
_STATUS = re.compile(r"error=(\d{3})\b|\b(\d{3}) error\b")
# apprise's NotifyType member per impact; the rest are INFO.
NOTIFY_TYPE = {Impact.CRITICAL: "FAILURE", Impact.MAJOR: "FAILURE", Impact.MINOR: "WARNING"}


def _apprise() -> ModuleType:
    """apprise, imported when an apprise channel is built: its ~100 service plugins cost
    0.3 s of CPU at import, and most deployments route nothing to it (every worker and
    command that lists the channel kinds would pay it)."""
    import apprise

    return apprise


@dataclass(frozen=True, slots=True)
class AppriseTarget:
    urls_env: str
    url: str | None  # None: the variable is unset or empty
    index: int = 0

    @property
    def id(self) -> str:
        tag = hashlib.sha256((self.url or "").encode()).hexdigest()[:8]
        return f"env:{self.urls_env}#{self.index}:{tag}"


def split_urls(value: str) -> list[str]:
    return [u for u in re.split(r"[\s,]+", value.strip()) if u]


class AppriseChannel(Channel):
    name: ClassVar[str] = "apprise"
    pauses_per_target: ClassVar[bool] = True
    label: ClassVar[str] = "apprise"
    body_maxlen: ClassVar[int] = BODY_MAX
    title_maxlen: ClassVar[int] = TITLE_MAX

    def __init__(self, presentation: Presentation | None = None) -> None:
        self.presentation = presentation or Presentation()
        self._apprise = apprise = _apprise()
        # In memory: apprise would otherwise keep state files under the user's cache.
        self._asset = apprise.AppriseAsset(storage_mode=apprise.PersistentStoreMode.MEMORY)

    def targets(self, subscriber: Subscriber) -> list[Target]:
        route = subscriber.apprise
        if route is None:
            return []
        urls = split_urls(os.environ.get(route.urls_env, ""))
        if not urls:
            return [AppriseTarget(route.urls_env, None)]
        return [AppriseTarget(route.urls_env, url, i) for i, url in enumerate(urls)]

    def send(self, alert: Alert, target: Target, thread_ref: str | None) -> SendResult:
        if not isinstance(target, AppriseTarget):
            raise DeliveryError("apprise: wrong target type", permanent=True)
        if target.url is None:
            said = env_named(target.urls_env)
            raise DeliveryError(f"apprise: {said} is not set", permanent=True)
        where = f"apprise: {target.urls_env} URL {target.index + 1}"
        apprise = self._apprise
        service = apprise.Apprise(asset=self._asset)
        if not service.add(target.url):
            raise DeliveryError(f"{where} is not an apprise URL", permanent=True)
        lines = text_lines(alert, self.presentation)
        title, body = truncate(lines[0], TITLE_MAX), truncate("\n".join(lines[1:]), BODY_MAX)
        kind = getattr(apprise.NotifyType, NOTIFY_TYPE.get(alert.event.incident.impact, "INFO"))
        result = service.notify(body=body or title, title=title, notify_type=kind,
                                body_format=apprise.NotifyFormat.TEXT)  # fmt: skip
        if result:
            return SendResult(message_id=f"{target.id}:{alert.dedup_key}")
        raise _classify(where, [e.message for e in result.logs()], (target.url,))

    def __repr__(self) -> str:
        return "AppriseChannel()"


def _classify(where: str, logs: list[str], secrets: tuple[str, ...]) -> DeliveryError:
    found = next((m for m in (_STATUS.search(line) for line in logs) if m), None)
    status = int(found.group(1) or found.group(2)) if found else None
    if status is None:
        return DeliveryError(f"{where}: not delivered (no answer)", permanent=False)
    message = redact(f"{where}: HTTP {status}", secrets)
    return DeliveryError(message, permanent=not (status in (408, 429) or status >= 500))

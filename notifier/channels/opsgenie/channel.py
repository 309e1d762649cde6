"""Opsgenie Alerts API (`POST {base}/v2/alerts`, `.../alerts/{alias}/close`).

The route names the environment variable that holds the API integration's key
(`opsgenie: {api_key_env: OPSGENIE_API_KEY}`), sent as `Authorization: GenieKey …`.
The same lifecycle as PagerDuty: the opening creates an alert whose `alias` is one key
per provider incident (Opsgenie de-duplicates on it: a retried create adds to its
count, never a second alert), and the resolution closes it by that alias. Priority
follows the impact; the annotations go in the description and `details`.

Opsgenie answers 202 (the request is queued); 401/403/422 and other 4xx are
permanent, 429 and 5xx retry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from notifier.channels.base import Channel, DeliveryError, SendResult, Target
from notifier.channels.httpjson import client, env_key, post_json
from notifier.channels.render import (
    Presentation,
    impact_label,
    incident_key,
    is_resolution,
    latest_body,
    notes,
    status_label,
    truncate,
)
from notifier.config.schema.subscribers import Subscriber
from notifier.models import Alert, Impact
from notifier.text import one_line

ALIAS_MAX = 512
MESSAGE_MAX = 130
DESCRIPTION_MAX = 15000
PRIORITY = {
    Impact.CRITICAL: "P1", Impact.MAJOR: "P2", Impact.MINOR: "P3",
    Impact.NONE: "P5", Impact.MAINTENANCE: "P5",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class OpsgenieTarget:
    api_key_env: str

    @property
    def id(self) -> str:
        return f"env:{self.api_key_env}"


def alias(alert: Alert) -> str:
    return incident_key(alert.event.provider, alert.event.incident_id, ALIAS_MAX)


def create_body(alert: Alert, p: Presentation) -> dict[str, Any]:
    inc = alert.event.incident
    name = p.provider_name(inc.provider)
    lines = [f"{status_label(inc.status)} · impact {impact_label(inc.impact).lower()}"]
    if inc.components:
        lines.append("Components: " + ", ".join(one_line(c) for c in inc.components))
    lines += notes(alert, p)
    body = latest_body(alert)
    if body:
        lines += ["", body]
    url = p.url_for(inc)
    if url:
        lines += ["", url]
    details = {"provider": inc.provider, "incident": inc.id, "status": inc.status.value,
               "impact": inc.impact.value, "components": ", ".join(inc.components)}  # fmt: skip
    return {
        "message": truncate(f"{name}: {one_line(inc.title)}", MESSAGE_MAX),
        "alias": alias(alert), "description": truncate("\n".join(lines), DESCRIPTION_MAX),
        "details": {k: v[:8000] for k, v in details.items() if v},
        "entity": name[:512], "source": "notifier", "priority": PRIORITY.get(inc.impact, "P3"),
        "tags": [inc.provider[:50], inc.impact.value],
    }  # fmt: skip


class OpsgenieChannel(Channel):
    name: ClassVar[str] = "opsgenie"
    pauses_per_target: ClassVar[bool] = True
    label: ClassVar[str] = "Opsgenie"
    body_maxlen: ClassVar[int] = DESCRIPTION_MAX
    title_maxlen: ClassVar[int] = MESSAGE_MAX
    pages_only: ClassVar[bool] = True

    def __init__(self, api_url: str = "https://api.opsgenie.com",
                 presentation: Presentation | None = None) -> None:  # fmt: skip
        self.base = api_url.rstrip("/")
        self.presentation = presentation or Presentation()
        self._http: httpx.Client | None = None

    def targets(self, subscriber: Subscriber) -> list[Target]:
        route = subscriber.opsgenie
        return [OpsgenieTarget(route.api_key_env)] if route is not None else []

    def send(self, alert: Alert, target: Target, thread_ref: str | None) -> SendResult:
        if not isinstance(target, OpsgenieTarget):
            raise DeliveryError("opsgenie: wrong target type", permanent=True)
        key = env_key("opsgenie", target.api_key_env)
        if self._http is None:
            self._http = client()
        auth = {"Authorization": f"GenieKey {key}"}
        name = alias(alert)
        if is_resolution(alert):
            url = f"{self.base}/v2/alerts/{quote(name, safe='')}/close?identifierType=alias"
            note = {"source": "notifier", "note": "Resolved on the provider's status page."}
            post_json(self._http, url, note, "opsgenie", headers=auth, secrets=(key,))
            return SendResult(message_id=f"close:{name}")
        body = create_body(alert, self.presentation)
        response = post_json(self._http, f"{self.base}/v2/alerts", body, "opsgenie",
                             headers=auth, secrets=(key,))  # fmt: skip
        request_id = _request_id(response)
        return SendResult(message_id=f"create:{name}" + (f" ({request_id})" if request_id else ""))

    def __repr__(self) -> str:
        return f"OpsgenieChannel(base={self.base!r})"


def _request_id(response: httpx.Response) -> str:
    try:
        return str(response.json().get("requestId") or "")[:64]
    except (ValueError, AttributeError):
        return ""

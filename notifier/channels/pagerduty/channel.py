"""PagerDuty Events API v2 (`POST {base}/v2/enqueue`).

A subscriber's route names the environment variable that holds its integration's
routing key (`pagerduty: {routing_key_env: PD_ROUTING_KEY}`); the key is read when an
alert is sent and never logged. The incident's opening (and anything the route's own
`events` list asks for) is a `trigger`, its resolution a `resolve`, both with one
`dedup_key` per provider incident, so PagerDuty keeps one alert per incident and a
retried trigger updates it instead of opening a second. Severity follows the impact;
the annotations (upstream causes, affected services) go in `custom_details`.

PagerDuty answers 202; 400 is a payload or key it will never accept (permanent), 429
and 5xx retry (its documentation asks for exactly that).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

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

DEDUP_MAX = 255
SUMMARY_MAX = 1024
SEVERITY = {
    Impact.CRITICAL: "critical", Impact.MAJOR: "error", Impact.MINOR: "warning",
    Impact.NONE: "info", Impact.MAINTENANCE: "info",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class PagerDutyTarget:
    routing_key_env: str

    @property
    def id(self) -> str:
        return f"env:{self.routing_key_env}"  # names the variable, never its value


def dedup_key(alert: Alert) -> str:
    return incident_key(alert.event.provider, alert.event.incident_id, DEDUP_MAX)


def event(alert: Alert, routing_key: str, p: Presentation) -> dict[str, Any]:
    """The Events API v2 body for `alert`."""
    inc = alert.event.incident
    key = dedup_key(alert)
    if is_resolution(alert):
        return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": key}
    summary = f"[{impact_label(inc.impact)}] {p.provider_name(inc.provider)}: {one_line(inc.title)}"
    details: dict[str, Any] = {
        "status": status_label(inc.status), "impact": inc.impact.value,
        "components": list(inc.components), "regions": list(inc.regions),
        "latest_update": truncate(latest_body(alert), 4000), "annotations": notes(alert, p),
    }  # fmt: skip
    body: dict[str, Any] = {
        "routing_key": routing_key, "event_action": "trigger", "dedup_key": key,
        "client": "notifier",
        "payload": {
            "summary": truncate(summary, SUMMARY_MAX), "source": p.provider_name(inc.provider),
            "severity": SEVERITY.get(inc.impact, "info"),
            "component": ", ".join(inc.components)[:255] or None, "group": inc.provider,
            "class": "vendor incident", "custom_details": details,
        },
    }  # fmt: skip
    body["payload"] = {k: v for k, v in body["payload"].items() if v is not None}
    url = p.url_for(inc)
    if url:
        body["links"] = [{"href": url, "text": "Status page"}]
    return body


class PagerDutyChannel(Channel):
    name: ClassVar[str] = "pagerduty"
    pauses_per_target: ClassVar[bool] = True
    label: ClassVar[str] = "PagerDuty"
    body_maxlen: ClassVar[int] = 4000  # latest_update in custom_details
    title_maxlen: ClassVar[int] = SUMMARY_MAX
    # A pager: the opening and what the route's `events` ask for, and the resolution.
    pages_only: ClassVar[bool] = True

    def __init__(self, api_url: str = "https://events.pagerduty.com",
                 presentation: Presentation | None = None) -> None:  # fmt: skip
        self.url = api_url.rstrip("/") + "/v2/enqueue"
        self.presentation = presentation or Presentation()
        self._http: httpx.Client | None = None

    def targets(self, subscriber: Subscriber) -> list[Target]:
        route = subscriber.pagerduty
        return [PagerDutyTarget(route.routing_key_env)] if route is not None else []

    def send(self, alert: Alert, target: Target, thread_ref: str | None) -> SendResult:
        if not isinstance(target, PagerDutyTarget):
            raise DeliveryError("pagerduty: wrong target type", permanent=True)
        key = env_key("pagerduty", target.routing_key_env)
        if self._http is None:
            self._http = client()
        body = event(alert, key, self.presentation)
        post_json(self._http, self.url, body, "pagerduty", secrets=(key,))
        return SendResult(message_id=f"{body['event_action']}:{body['dedup_key']}")

    def secrets(self) -> tuple[str, ...]:
        return ()  # read from the environment at send time; Config.secret_values has them

    def __repr__(self) -> str:
        return f"PagerDutyChannel(url={self.url!r})"

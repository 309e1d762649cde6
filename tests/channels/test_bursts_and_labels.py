"""What every channel renders of a burst, of an incident first seen already over, and of
annotations: each label once.

Annotations come from the real annotator (`notifier.annotate.correlate.annotate`) on a
Dec 26-like world: Azure upstream, Cloudflare coincident, OpenAI's own update stating a
cause, a service of ours affected.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from notifier.annotate.correlate import annotate
from notifier.channels.console.text import render_text
from notifier.channels.email.channel import html_body, subject, text_body
from notifier.channels.opsgenie.channel import create_body
from notifier.channels.pagerduty.channel import event as pagerduty_event
from notifier.channels.render import Presentation
from notifier.channels.slack.blocks import parent_message, reply_message
from notifier.channels.sms.channel import page_text, resolved_text
from notifier.channels.webhook.channel import payload
from notifier.cli.replay import run_replay
from notifier.models import (
    Alert,
    AlertKind,
    AnnotationKind,
    ChangeEvent,
    EventKind,
    Incident,
    IncidentKind,
    Status,
    Update,
)
from tests.planning_helpers import at, config, incident

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "2024-12-26-openai-azure"
CFG = config(
    """
    providers:
      - id: openai
        depends_on: [{provider: azure}]
      - id: azure
      - id: cloudflare
    services:
      chatbot: {depends_on: [openai]}
    subscribers: [{name: ops, slack: {channel: "#ops"}}]
    """
)
P = Presentation(names={"openai": "OpenAI", "azure": "Microsoft Azure", "github": "GitHub"})
AZURE = incident("azure", "az", "2024-12-26 18:05", title="Power event in South Central US")
CLOUDFLARE = incident("cloudflare", "cf", "2024-12-26 18:58", title="Elevated 5xx in LHR")
OPENAI = incident(
    "openai", "o1", "2024-12-26 19:00", title="Elevated errors on ChatGPT",
    bodies=("Errors are caused by a power failure at our upstream cloud provider.",),
)  # fmt: skip
# The annotator's own leading words, and the labels channels once put before them.
LABELS = ["Possible upstream cause", "Stated cause", "Coincident", "Affects your services"]
LABELS += ["Confirmed by", "Upstream", "Downstream"]


def _event(inc: Incident, kind: EventKind = EventKind.NEW_INCIDENT, **kw: object) -> ChangeEvent:
    return ChangeEvent(
        event_id=f"{inc.id}:{kind.value}", kind=kind, provider=inc.provider,
        incident_id=inc.id, detected_at=at("2024-12-26 19:05"), incident=inc,
        update=inc.updates[-1] if inc.updates else None, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def _alert(event: ChangeEvent, kind: AlertKind, channel: str = "slack") -> Alert:
    notes = annotate(event, CFG, [AZURE, CLOUDFLARE, event.incident], event.detected_at)
    return Alert(
        dedup_key=f"{event.event_id}/ops/{channel}", thread_key="ops/slack/openai/o1",
        kind=kind, subscriber="ops", channel=channel, event=event, annotations=notes,
    )  # fmt: skip


def _renderings(alert: Alert) -> dict[str, str]:
    """Every channel's text of the alert (Slack's mrkdwn, email's parts, SMS, the JSON
    bodies of webhook, PagerDuty and Opsgenie, the console)."""
    return {
        "console": render_text(alert, P),
        "slack parent": _strings(parent_message(alert, P)),
        "slack reply": _strings(reply_message(alert, P)),
        "email": "\n".join([subject(alert, P), text_body(alert, P), html_body(alert, P)]),
        "sms": page_text(alert, "K7", P),
        "webhook": _strings(payload(alert, P)),
        "pagerduty": _strings(pagerduty_event(alert, "rk", P)),
        "opsgenie": _strings(create_body(alert, P)),
    }


def _strings(body: object) -> str:
    """The text of a JSON body: each string in it on its own line."""
    if isinstance(body, str):
        return body
    if isinstance(body, dict):
        return "\n".join(_strings(v) for v in body.values())
    if isinstance(body, list):
        return "\n".join(_strings(v) for v in body)
    return ""


def _repeated_labels(text: str) -> list[str]:
    """Lines that say more than one label ("Stated cause: Stated cause: power",
    "Upstream: Possible upstream cause: …")."""
    lines = re.split(r"\\n|\n|<li>|<br>|:link:", text)
    return [ln[:120] for ln in lines if sum(ln.count(f"{label}:") for label in LABELS) > 1]


def test_the_annotator_gives_every_kind_the_channels_label() -> None:
    kinds = {a.kind for a in _alert(_event(OPENAI), AlertKind.NEW).annotations}
    assert {
        AnnotationKind.UPSTREAM,
        AnnotationKind.COINCIDENT,
        AnnotationKind.STATED_CAUSE,
        AnnotationKind.DOWNSTREAM,
    } <= kinds


@pytest.mark.parametrize("kind", [AlertKind.NEW, AlertKind.UPDATE, AlertKind.RESOLVED])
def test_no_rendered_alert_in_any_channel_repeats_a_label(kind: AlertKind) -> None:
    alert = _alert(_event(OPENAI), kind)
    for channel, text in _renderings(alert).items():
        assert "Stated cause" in text or channel == "sms" or "resolve\n" in text, channel
        assert _repeated_labels(text) == [], channel


def test_the_replay_and_its_html_show_each_label_once(tmp_path: Path) -> None:
    out, err, html = io.StringIO(), io.StringIO(), tmp_path / "r.html"
    assert run_replay(EXAMPLE, EXAMPLE / "subscriptions.yaml", out, err, html) == 0
    texts = [json.loads(x)["text"] for x in out.getvalue().splitlines() if '"alert"' in x]
    assert any("Stated cause:" in t for t in texts)
    for text in [*texts, html.read_text()]:
        assert _repeated_labels(text) == []


# ---- bursts ---------------------------------------------------------------------

MONITORING = Update(at("2024-12-26 19:30"), Status.MONITORING, "A fix is rolling out.", "u2")
IDENTIFIED = Update(at("2024-12-26 19:12"), Status.IDENTIFIED, "Found the cause.", "u1")
RESOLVED = Update(at("2024-12-26 19:40"), Status.RESOLVED, "Error rates are normal.", "u3")


def _burst(kind: EventKind, alert_kind: AlertKind, last: Update, channel: str) -> Alert:
    inc = replace(
        OPENAI, status=last.status, updates=(*OPENAI.updates, IDENTIFIED, MONITORING, last)
    )
    if last.status.is_closed:
        inc = replace(inc, resolved_at=last.at)
    ev = _event(inc, kind, earlier=(IDENTIFIED, MONITORING))
    return _alert(ev, alert_kind, channel)


def _in_order(text: str, *parts: str) -> bool:
    at_ = [text.find(p) for p in parts]
    return all(i >= 0 for i in at_) and at_ == sorted(at_)


def test_a_burst_is_one_slack_reply_listing_the_updates_in_order() -> None:
    alert = _burst(EventKind.RESOLVED, AlertKind.RESOLVED, RESOLVED, "slack")
    reply = reply_message(alert, P)
    said = "\n".join(b["text"]["text"] for b in reply["blocks"] if "text" in b)
    assert _in_order(
        said,
        "19:12 Identified: Found the cause.",
        "19:30 Monitoring: A fix is rolling out.",
        "19:40 Resolved: Error rates are normal.",
    )
    assert reply["text"].startswith("Resolved:")  # the notification line: the latest


def test_a_burst_is_one_email_listing_the_updates_in_order() -> None:
    alert = _burst(EventKind.NEW_UPDATE, AlertKind.UPDATE, MONITORING, "email")
    alert = replace(alert, event=replace(alert.event, earlier=(IDENTIFIED,)))
    for body in (text_body(alert, P), html_body(alert, P)):
        assert _in_order(body, "19:12 Identified: Found the cause.", "19:30 Monitoring: A fix")


def test_a_burst_is_one_sms_with_the_latest_status() -> None:
    update = _burst(EventKind.NEW_UPDATE, AlertKind.UPDATE, MONITORING, "sms")
    update = replace(update, event=replace(update.event, earlier=(IDENTIFIED,)))
    text = page_text(update, "K7", P)
    assert "Monitoring" in text and "Identified" not in text and "Found the cause" not in text
    done = _burst(EventKind.RESOLVED, AlertKind.RESOLVED, RESOLVED, "sms")
    assert resolved_text(done, P).startswith("[RESOLVED] OpenAI: Elevated errors on ChatGPT")


def test_a_maintenance_first_seen_already_done_says_began_completed_and_seen() -> None:
    began, done = at("2025-04-16 16:24"), at("2025-04-16 19:56")
    steps = [
        Update(began, Status.SCHEDULED, "We will be undergoing maintenance.", "m1"),
        Update(began + timedelta(minutes=1), Status.IN_PROGRESS, "Under way.", "m2"),
        Update(done, Status.COMPLETED, "Maintenance has completed.", "m3"),
    ]
    inc = Incident(
        provider="github", id="m", title="Codespaces maintenance", url=None,
        status=Status.COMPLETED, impact=OPENAI.impact, kind=IncidentKind.MAINTENANCE,
        started_at=began, updated_at=done, resolved_at=done, updates=tuple(steps),
    )  # fmt: skip
    ev = replace(
        _event(inc, EventKind.MAINTENANCE_COMPLETED), earlier=tuple(steps[:2]),
        first_seen=True, detected_at=at("2025-04-16 23:47"),
    )  # fmt: skip
    line = "Began 16:24, completed 19:56 UTC, seen at 23:47 UTC."
    for channel in ("console", "slack", "email", "sms"):
        alert = Alert(
            dedup_key=f"m/ops/{channel}", thread_key="t", kind=AlertKind.MAINTENANCE,
            subscriber="ops", channel=channel, event=ev,
        )  # fmt: skip
        if channel == "sms":
            assert line in resolved_text(alert, P)
            continue
        text = _renderings(alert)["console" if channel == "console" else "email"]
        if channel == "slack":
            text = _strings(parent_message(alert, P))
        assert line in text, channel
        assert _in_order(text, "16:24 Scheduled", "16:25 In progress", "19:56 Completed")

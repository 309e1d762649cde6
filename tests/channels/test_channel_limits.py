"""Every channel declares its limits (apprise-style); its renderer must keep to them,
whatever a hostile or verbose status page sends."""

from __future__ import annotations

from notifier.channels.email.channel import EmailChannel, subject, text_body
from notifier.channels.render import Presentation
from notifier.channels.slack.blocks import parent_message, reply_message
from notifier.channels.slack.channel import SlackChannel
from notifier.channels.sms import gsm
from notifier.channels.sms.channel import SmsChannel, page_text
from notifier.models import AlertKind, Status, Update
from tests.fakes import sample

HUGE = "Ünïcødé “quotes” — and <!channel> " * 2_000  # ~70 kB of title and body


def _huge_alert(kind: AlertKind = AlertKind.NEW):  # type: ignore[no-untyped-def]
    update = Update(sample.T0, Status.INVESTIGATING, HUGE, "k1")
    return sample.alert(kind=kind, title=HUGE, updates=(update,))


def test_slack_messages_keep_to_the_declared_limits() -> None:
    p = Presentation()
    for message in (
        parent_message(_huge_alert(), p),
        reply_message(_huge_alert(AlertKind.UPDATE), p),
    ):
        assert len(message["text"]) <= SlackChannel.body_maxlen
        headers = [b for b in message["blocks"] if b["type"] == "header"]
        assert all(len(h["text"]["text"]) <= SlackChannel.title_maxlen for h in headers)


def test_an_sms_page_keeps_to_one_segment() -> None:
    encoded = gsm.encode(page_text(_huge_alert(), "K7", Presentation()))
    assert encoded.units <= min(encoded.limit, SmsChannel.body_maxlen)


def test_an_email_subject_keeps_to_the_declared_limit() -> None:
    alert = _huge_alert()
    assert len(subject(alert, Presentation())) <= EmailChannel.title_maxlen
    assert len(text_body(alert, Presentation())) <= EmailChannel.body_maxlen

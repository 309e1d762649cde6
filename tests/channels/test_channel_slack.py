"""Slack through the real slack_sdk clients against the local fake Web API and webhook."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from notifier.channels.base import DeliveryError
from notifier.channels.render import Presentation
from notifier.channels.slack.blocks import HEADER_MAX, MAX_BLOCKS, TEXT_MAX, escape
from notifier.channels.slack.channel import SlackChannel, SlackTarget
from notifier.models import Annotation, AnnotationKind
from tests.fakes import sample
from tests.fakes.slack_api import FakeSlack

OPS = SlackTarget(channel="#ops")
NAMES = Presentation(names={"openai": "OpenAI"}, hosts={"openai": "status.openai.com"})


def channel(slack: FakeSlack, **kw: Any) -> SlackChannel:
    return SlackChannel(
        token=SecretStr(slack.token), api_url=slack.api_url, presentation=NAMES, **kw
    )


def all_text(payload: object) -> str:
    return json.dumps(payload, ensure_ascii=False)


def test_the_first_alert_posts_a_parent_and_later_ones_reply_in_its_thread(
    fake_slack: FakeSlack,
) -> None:
    ch = channel(fake_slack)
    first = ch.send(sample.alert(), OPS, None)
    second = ch.send(sample.update(), OPS, first.thread_ref)

    parent, reply = fake_slack.messages
    assert "thread_ts" not in parent
    assert reply["thread_ts"] == parent["ts"]
    assert first.thread_ref == second.thread_ref == f"{parent['channel']}/{parent['ts']}"
    # the parent was edited to show the incident's current state
    (edit,) = fake_slack.updates
    assert edit["ts"] == parent["ts"]
    assert "*Status*\\nIdentified" in all_text(edit["blocks"])


def test_resolution_marks_the_parent_resolved_and_shows_the_duration(
    fake_slack: FakeSlack,
) -> None:
    ch = channel(fake_slack)
    ref = ch.send(sample.alert(), OPS, None).thread_ref
    ch.send(sample.resolved(), OPS, ref)

    parent = fake_slack.current[tuple(ref.split("/"))]  # type: ignore[union-attr]
    assert parent["blocks"][0]["text"]["text"].startswith("✅ Resolved: OpenAI")
    assert "*Duration*\\n2h 14m" in all_text(parent["blocks"])
    assert fake_slack.messages[-1]["blocks"][0]["text"]["text"].startswith(
        "*Resolved* after 2h 14m"
    )


def test_a_deleted_parent_starts_a_new_thread(fake_slack: FakeSlack) -> None:
    ch = channel(fake_slack)
    ref = ch.send(sample.alert(), OPS, None).thread_ref
    assert ref is not None
    fake_slack.current.clear()  # someone deleted the parent
    again = ch.send(sample.update(), OPS, ref)
    assert again.thread_ref != ref
    assert "thread_ts" not in fake_slack.messages[-1]


def test_the_block_kit_payload_for_a_sample_alert_is_exactly_this(
    fake_slack: FakeSlack,
) -> None:
    channel(fake_slack).send(sample.alert(), OPS, None)
    meta = ("ts", "method", "body", "response")
    posted = {k: v for k, v in fake_slack.messages[0].items() if k not in meta}
    assert posted == {
        "channel": "C" + posted["channel"][1:],
        # the dedup key, so a post whose answer was lost can be found again
        "metadata": {
            "event_type": "notifier_alert",
            "event_payload": {"dedup_key": "ev1/sre/slack", "target": "#ops"},
        },
        "text": "[MAJOR] OpenAI: Elevated errors on API - Investigating",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": "🟠 OpenAI: Elevated errors on API"},
            },
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Status*\nInvestigating"},
                    {"type": "mrkdwn", "text": "*Impact*\nMAJOR"},
                    {"type": "mrkdwn", "text": "*Components*\nAPI, ChatGPT"},
                    {"type": "mrkdwn", "text": "*Started*\n2024-04-16 01:46 UTC"},
                ],
            },
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "We are investigating elevated errors."},
            },
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": ":link: Upstream: Azure SCUS power"},
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": "Detected 2024-04-16 01:50 UTC · "
                        "https://status.openai.com/incidents/01HV8ZK3Q",
                    }
                ],
            },
        ],
    }


HOSTILE = [
    # a broadcast in Slack's own syntax
    "<!channel> wake up",
    "<!here|here> and <!everyone>",
    # a user and a group mention
    "ping <@U123ABC> and <!subteam^S123>",
    # a disguised link
    "see <http://evil.example/phish|https://status.openai.com>",
    # bare words Slack may auto-link with link_names
    "@channel @here @everyone",
    # entities that would decode to markup if passed through raw
    "&lt;!channel&gt;",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_feed_text_never_becomes_a_mention_or_a_link(
    fake_slack: FakeSlack, text: str
) -> None:
    hostile = sample.alert(
        title=text,
        updates=(replace(sample.incident().updates[0], body=text),),
        components=(text,),
        annotations=(Annotation(AnnotationKind.STATED_CAUSE, text, "feed"),),
    )
    ch = channel(fake_slack)
    ref = ch.send(hostile, OPS, None).thread_ref
    ch.send(replace(hostile, dedup_key="x2"), OPS, ref)
    for payload in [*(m["body"] for m in fake_slack.messages), *fake_slack.updates]:
        mrkdwn = [payload["text"]] + [
            t["text"]
            for b in payload["blocks"]
            for t in [b.get("text") or {}, *b.get("fields", []), *b.get("elements", [])]
            if t and t.get("type") == "mrkdwn"
        ]
        for t in mrkdwn:
            assert "<" not in t and ">" not in t
            for word in ("@channel", "@here", "@everyone"):
                assert word not in t.lower()


def test_escaping_keeps_the_text_readable() -> None:
    assert escape("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    assert escape("@here") == "@\u2060here"
    assert escape("mail me@here.com") == "mail me@\u2060here.com"


def test_a_huge_incident_stays_within_slack_limits(fake_slack: FakeSlack) -> None:
    huge = sample.alert(
        title="T" * 1000,
        components=tuple(f"component {i}" for i in range(500)),
        updates=(replace(sample.incident().updates[0], body="&" * 10_000),),
    )
    channel(fake_slack).send(huge, OPS, None)
    msg = fake_slack.messages[0]
    assert len(msg["text"]) <= TEXT_MAX
    assert len(msg["blocks"]) <= MAX_BLOCKS
    assert len(msg["blocks"][0]["text"]["text"]) <= HEADER_MAX
    for block in msg["blocks"]:
        text = (block.get("text") or {}).get("text", "")
        assert len(text) <= TEXT_MAX
        assert not text.rstrip("…").endswith(("&", "&a", "&am", "&amp"))
        for field in block.get("fields", []):
            assert len(field["text"]) <= 2000


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        # the provider's own status host over https: shown as literal text
        ("https://status.openai.com/incidents/X1", True),
        # another host, even if it looks official
        ("https://status.openai.com.evil.example/incidents/X1", False),
        # plain http
        ("http://status.openai.com/incidents/X1", False),
        # credentials in the URL
        ("https://user@status.openai.com/x", False),
        # Slack link syntax smuggled into the URL
        ("https://status.openai.com/x|click", False),
        ("javascript:alert(1)", False),
    ],
)
def test_the_incident_link_is_shown_only_on_the_providers_https_host(
    fake_slack: FakeSlack, url: str, shown: bool
) -> None:
    channel(fake_slack).send(sample.alert(url=url), OPS, None)
    assert (url in all_text(fake_slack.messages[0])) is shown


def test_a_webhook_posts_a_complete_message_without_threads(fake_slack: FakeSlack) -> None:
    ch = SlackChannel(webhook_url=SecretStr(fake_slack.webhook_url), presentation=NAMES)
    result = ch.send(sample.alert(), SlackTarget(), None)
    assert result.thread_ref is None
    (post,) = fake_slack.webhook_posts
    assert post["text"].startswith("[MAJOR] OpenAI")
    assert post["blocks"][0]["type"] == "header"


def test_without_a_token_or_webhook_it_fails_permanently() -> None:
    with pytest.raises(DeliveryError) as err:
        SlackChannel().send(sample.alert(), OPS, None)
    assert err.value.permanent


@pytest.mark.parametrize(
    "error",
    [
        # the parent is too old to edit, or was posted by someone else
        "cant_update_message",
        "edit_window_closed",
        # the refreshed parent is refused, though the reply may be fine
        "msg_too_long",
        "invalid_blocks",
    ],
)
def test_a_parent_that_cannot_be_edited_does_not_stop_the_reply(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture, error: str
) -> None:
    ch = channel(fake_slack)
    ref = ch.send(sample.alert(), OPS, None).thread_ref
    assert ref is not None
    fake_slack.fail_next(1, status=200, error=error)  # the chat.update
    result = ch.send(sample.update(), OPS, ref)
    parent, reply = fake_slack.messages
    assert reply["thread_ts"] == parent["ts"]
    assert result.thread_ref == ref and result.message_id.endswith(reply["ts"])
    assert fake_slack.updates == []
    warned = [r.getMessage() for r in caplog.records if r.name == "notifier.channels.slack.channel"]
    assert any(error in m for m in warned)
    assert not any(fake_slack.token in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        # rate limited: the task retries the edit and the reply together
        (429, "ratelimited"),
        # Slack is down
        (503, "service_unavailable"),
    ],
)
def test_a_transient_parent_edit_error_retries_before_replying(
    fake_slack: FakeSlack, status: int, error: str
) -> None:
    ch = channel(fake_slack)
    ref = ch.send(sample.alert(), OPS, None).thread_ref
    fake_slack.fail_next(1, status=status, error=error)
    with pytest.raises(DeliveryError) as err:
        ch.send(sample.update(), OPS, ref)
    assert not err.value.permanent
    assert len(fake_slack.messages) == 1  # no reply yet: the retry sends edit and reply


@pytest.mark.parametrize(
    "url",
    [
        # not a URL at all
        "hooks.slack.com/services/T0/B0/s3cr3tPart",
        # a space inside
        "https://hooks.slack.com/services/T0/B0/s3cr3t Part",
        # no host
        "https:///services/T0/B0/s3cr3tPart",
        # a port out of range, and one that is not a number
        "https://hooks.slack.com:99999/services/T0/B0/s3cr3tPart",
        "https://hooks.slack.com:x1/services/T0/B0/s3cr3tPart",
        # not http(s)
        "ftp://hooks.slack.com/services/T0/B0/s3cr3tPart",
        # a control character
        "https://hooks.slack.com/services/T0/B0/s3cr3tPart\x00",
    ],
)
def test_a_malformed_webhook_url_fails_permanently_without_showing_it(
    caplog: pytest.LogCaptureFixture, url: str
) -> None:
    caplog.set_level(logging.DEBUG)
    target = SlackTarget(webhook_url=SecretStr(url))
    with pytest.raises(DeliveryError) as err:
        SlackChannel(presentation=NAMES).send(sample.alert(), target, None)
    assert err.value.permanent
    shown = [str(err.value), repr(err.value), *(r.getMessage() for r in caplog.records)]
    assert not any("s3cr3t" in text for text in shown)
    # no chained exception (urllib's text quotes the URL) reaches a traceback
    assert err.value.__cause__ is None
    assert err.value.__context__ is None or err.value.__suppress_context__


def test_a_subscribers_own_webhook_url_is_scrubbed_from_the_sdk_log(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    own = SlackTarget(webhook_url=SecretStr(fake_slack.webhook_url))
    SlackChannel(presentation=NAMES).send(sample.alert(), own, None)
    sdk = [r.getMessage() for r in caplog.records if r.name.startswith("notifier.channels.")]
    assert any("Sending a request" in m and "**********" in m for m in sdk)
    assert not any(fake_slack.webhook_secret in r.getMessage() for r in caplog.records)


def test_a_lost_first_post_to_a_channel_given_by_name_is_found_under_its_id(
    fake_slack: FakeSlack,
) -> None:
    # conversations.history takes ids only: the name is listed once (conversations.list)
    ch, since = channel(fake_slack), datetime.now(UTC)
    fake_slack.accept_then_drop(1)  # Slack took the post; the answer never came
    with pytest.raises(DeliveryError) as lost:
        ch.send(sample.alert(), OPS, None)
    assert lost.value.unknown

    found = ch.find_sent(sample.alert(), OPS, None, since)

    (posted,) = fake_slack.messages
    assert found is not None and found.message_id == f"{posted['channel']}/{posted['ts']}"
    assert found.thread_ref == found.message_id  # it opened the thread
    methods = [r.path.rsplit("/", 1)[-1] for r in fake_slack.requests]
    assert methods == ["chat.postMessage", "conversations.list", "conversations.history"]


def test_a_channel_name_slack_answered_before_is_looked_up_without_listing(
    fake_slack: FakeSlack,
) -> None:
    ch, since = channel(fake_slack), datetime.now(UTC)
    ch.send(sample.alert(), OPS, None)  # its answer names the channel's id
    other = sample.alert(key="ev-other", thread_key="openai/other")
    fake_slack.accept_then_drop(1)
    with pytest.raises(DeliveryError):
        ch.send(other, OPS, None)

    assert ch.find_sent(other, OPS, None, since) is not None
    assert ch.find_sent(sample.alert(key="ev-never"), OPS, None, since) is None
    assert not any(r.path.endswith("conversations.list") for r in fake_slack.requests)

"""The Slack Web API client keeps its HTTP connection open between calls (the real
slack-sdk client, with only its transport replaced, against the keep-alive fake)."""

from __future__ import annotations

import time

import pytest
from pydantic import SecretStr

from notifier.channels import slack_http
from notifier.channels.base import DeliveryError, SlackTarget
from notifier.channels.slack import SlackChannel
from tests.fakes import sample
from tests.fakes.slack_api import FakeSlack

OPS = SlackTarget(channel="#ops")


def channel(slack: FakeSlack) -> SlackChannel:
    return SlackChannel(token=SecretStr(slack.token), api_url=slack.api_url)


def posts(slack: FakeSlack) -> int:
    return sum(1 for r in slack.requests if r.path.endswith("chat.postMessage"))


def test_a_fan_out_of_posts_goes_over_one_connection(fake_slack: FakeSlack) -> None:
    ch = channel(fake_slack)
    for n in range(5):
        ch.send(sample.alert(key=f"ev{n}"), SlackTarget(channel=f"#team{n}"), None)
    assert posts(fake_slack) == 5 and len(fake_slack.connections) == 1


def test_a_connection_the_server_closed_while_idle_is_replaced_before_sending(
    fake_slack: FakeSlack,
) -> None:
    assert fake_slack._server is not None
    fake_slack._server.RequestHandlerClass.timeout = 0.2  # type: ignore[attr-defined]
    ch = channel(fake_slack)
    ch.send(sample.alert(key="ev1"), OPS, None)
    time.sleep(1.0)  # the fake has closed the idle connection by now
    ch.send(sample.alert(key="ev2"), OPS, None)  # no failure: a fresh connection
    assert posts(fake_slack) == 2 and len(fake_slack.connections) == 2


def test_an_idle_connection_past_the_reuse_window_is_not_reused(
    fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(slack_http, "IDLE_REUSE_S", 0.0)
    ch = channel(fake_slack)
    for n in range(3):
        ch.send(sample.alert(key=f"ev{n}"), OPS, None)
    assert len(fake_slack.connections) == 3


def test_an_error_answer_is_classified_as_before_and_the_connection_lives_on(
    fake_slack: FakeSlack,
) -> None:
    ch = channel(fake_slack)
    ch.send(sample.alert(key="ev1"), OPS, None)
    fake_slack.fail_next(1, status=429, error="ratelimited", retry_after=7)
    with pytest.raises(DeliveryError) as err:
        ch.send(sample.alert(key="ev2"), OPS, None)
    assert not err.value.permanent and err.value.retry_after == 7
    fake_slack.fail_next(1, status=404, error="channel_not_found")
    with pytest.raises(DeliveryError) as gone:
        ch.send(sample.alert(key="ev3"), OPS, None)
    assert gone.value.permanent
    ch.send(sample.alert(key="ev4"), OPS, None)
    assert len(fake_slack.connections) == 1


def test_a_refused_connection_is_a_transient_error_and_nothing_is_sent_twice(
    fake_slack: FakeSlack,
) -> None:
    assert fake_slack._server is not None
    fake_slack._server.RequestHandlerClass.timeout = 0.2  # type: ignore[attr-defined]
    ch = channel(fake_slack)
    ch.send(sample.alert(key="ev1"), OPS, None)
    fake_slack.stop()  # no more connections are accepted
    time.sleep(1.0)  # and the kept one has been closed by the server
    with pytest.raises(DeliveryError) as err:
        ch.send(sample.alert(key="ev2"), OPS, None)
    assert not err.value.permanent and "connection failed" in err.value.message
    assert posts(fake_slack) == 1

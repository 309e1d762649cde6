"""The Slack Web API client keeps its HTTP connection open between calls (the real
slack-sdk client, with only its transport replaced, against the keep-alive fake)."""

from __future__ import annotations

import ssl
from pathlib import Path
from urllib.error import URLError

import pytest
from pydantic import SecretStr

from notifier.channels.base import DeliveryError
from notifier.channels.slack import http as slack_http
from notifier.channels.slack.channel import SlackChannel, SlackTarget
from notifier.channels.slack.http import KeepAliveWebClient
from tests.fakes import sample
from tests.fakes.slack_api import FakeSlack
from tests.support.tls import self_signed_cert

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
    assert fake_slack.hung_up()  # the fake closed the idle connection
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
    assert fake_slack.hung_up()  # and the kept one has been closed by the server
    with pytest.raises(DeliveryError) as err:
        ch.send(sample.alert(key="ev2"), OPS, None)
    assert not err.value.permanent and "connection failed" in err.value.message
    assert posts(fake_slack) == 1


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    made = self_signed_cert(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("the openssl command is not available to make a test certificate")
    return made


def test_over_tls_it_checks_the_certificate_and_keeps_the_connection(
    tls_files: tuple[Path, Path],
) -> None:
    cert, key = tls_files
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    slack = FakeSlack().start(tls=server_side)
    try:
        assert slack.api_url.startswith("https://")
        trusting = ssl.create_default_context(cafile=str(cert))
        client = KeepAliveWebClient(token=slack.token, base_url=slack.api_url, ssl=trusting)
        for n in range(3):
            assert client.chat_postMessage(channel=f"#team{n}", text="made here")["ok"]
        assert posts(slack) == 3 and len(slack.connections) == 1

        # Without the test CA the certificate is refused, as slack.com's would be if forged.
        stranger = KeepAliveWebClient(token=slack.token, base_url=slack.api_url)
        with pytest.raises(URLError) as refused:
            stranger.chat_postMessage(channel="#team9", text="made here")
        assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)
        assert posts(slack) == 3
    finally:
        slack.stop()

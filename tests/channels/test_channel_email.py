"""Email through smtplib against a real aiosmtpd server: MIME, threading, TLS, auth."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from notifier.channels.base import DeliveryError
from notifier.channels.email import session as smtp_session
from notifier.channels.email.channel import EmailChannel, EmailTarget
from notifier.channels.render import Presentation
from tests.fakes import sample
from tests.fakes.smtp import FakeSmtp
from tests.support.tls import self_signed_cert

NAMES = Presentation(names={"openai": "OpenAI"}, hosts={"openai": "status.openai.com"})
TO = EmailTarget("oncall@example.com")


def plain(server: FakeSmtp, **kw: Any) -> EmailChannel:
    return EmailChannel(
        "127.0.0.1", server.port, "notifier@example.com", starttls=False, presentation=NAMES, **kw
    )


def test_the_mime_headers_of_a_sample_alert(fake_smtp: FakeSmtp) -> None:
    result = plain(fake_smtp).send(sample.alert(channel="email"), TO, None)
    (msg,) = fake_smtp.messages
    assert msg["Subject"] == "[OpenAI] Elevated errors on API — Investigating"
    assert msg["From"] == "notifier@example.com"
    assert msg["To"] == "oncall@example.com"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["Message-ID"] == result.message_id == result.thread_ref
    assert msg["Message-ID"].endswith("@example.com>")
    assert msg["In-Reply-To"] is None
    assert msg.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Upstream: Azure SCUS power" in text
    assert "Status page: https://status.openai.com/incidents/01HV8ZK3Q" in text


def test_later_alerts_of_an_incident_reply_in_its_thread(fake_smtp: FakeSmtp) -> None:
    ch = plain(fake_smtp)
    first = ch.send(sample.alert(channel="email"), TO, None)
    second = ch.send(sample.update(channel="email"), TO, first.thread_ref)
    assert second.thread_ref == first.message_id
    reply = fake_smtp.messages[1]
    assert reply["In-Reply-To"] == first.message_id
    assert reply["References"] == first.message_id
    assert reply["Message-ID"] != first.message_id


def test_feed_text_is_escaped_in_html_and_never_becomes_a_link(fake_smtp: FakeSmtp) -> None:
    evil = '<a href="https://evil.example">login</a><script>x()</script>'
    alert = sample.alert(
        channel="email",
        title=evil,
        url="https://evil.example/phish",
        updates=(replace(sample.incident().updates[0], body=evil),),
    )
    plain(fake_smtp).send(alert, TO, None)
    html = fake_smtp.messages[0].get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<a " not in html and "<script" not in html
    assert "&lt;a href=&quot;https://evil.example&quot;&gt;" in html
    assert "evil.example/phish" not in html  # off-host URLs are not shown at all


def test_a_newline_in_a_title_cannot_inject_headers(fake_smtp: FakeSmtp) -> None:
    alert = sample.alert(channel="email", title="Outage\r\nBcc: victim@example.com")
    plain(fake_smtp).send(alert, TO, None)
    (msg,) = fake_smtp.messages
    assert msg["Bcc"] is None
    assert fake_smtp.recorder.envelopes[0][1] == ["oncall@example.com"]


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    made = self_signed_cert(tmp_path_factory.mktemp("tls"))
    if made is None:
        pytest.skip("cannot make a self-signed certificate: the openssl CLI is not available")
    return made


def _server_context(files: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(files[0]), str(files[1]))
    return ctx


def _client_context(files: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(files[0]))


@pytest.fixture
def starttls_server(tls_files: tuple[Path, Path]) -> Iterator[FakeSmtp]:
    server = FakeSmtp(
        tls_context=_server_context(tls_files), credentials=("alerts", "smtp-pass-9876")
    ).start()
    yield server
    server.stop()


def test_it_upgrades_with_starttls_and_logs_in(
    starttls_server: FakeSmtp, tls_files: tuple[Path, Path]
) -> None:
    ch = EmailChannel(
        "127.0.0.1", starttls_server.port, "notifier@example.com", username="alerts",
        password=SecretStr("smtp-pass-9876"), starttls=True,
        ssl_context=_client_context(tls_files), presentation=NAMES,
    )  # fmt: skip
    ch.send(sample.alert(channel="email"), TO, None)
    assert len(starttls_server.messages) == 1


def test_a_wrong_password_is_permanent_and_not_echoed(
    starttls_server: FakeSmtp, tls_files: tuple[Path, Path]
) -> None:
    ch = EmailChannel(
        "127.0.0.1", starttls_server.port, username="alerts",
        password=SecretStr("wrong-password-1234"), ssl_context=_client_context(tls_files),
    )  # fmt: skip
    with pytest.raises(DeliveryError) as err:
        ch.send(sample.alert(channel="email"), TO, None)
    assert err.value.permanent
    assert err.value.message.startswith("smtp: 535")
    assert "wrong-password-1234" not in str(err.value)


def test_it_speaks_implicit_tls(tls_files: tuple[Path, Path]) -> None:
    server = FakeSmtp(implicit_tls=_server_context(tls_files)).start()
    try:
        ch = EmailChannel(
            "127.0.0.1", server.port, use_ssl=True, ssl_context=_client_context(tls_files)
        )
        ch.send(sample.alert(channel="email"), TO, None)
        assert len(server.messages) == 1
    finally:
        server.stop()


def test_an_untrusted_certificate_is_refused_permanently(starttls_server: FakeSmtp) -> None:
    ch = EmailChannel("127.0.0.1", starttls_server.port, starttls=True)
    with pytest.raises(DeliveryError) as err:
        ch.send(sample.alert(channel="email"), TO, None)
    assert err.value.permanent


def test_a_burst_of_mail_goes_over_one_session(fake_smtp: FakeSmtp) -> None:
    ch = plain(fake_smtp)
    for n in range(4):
        ch.send(sample.alert(channel="email", key=f"ev{n}"), EmailTarget(f"p{n}@example.com"), None)
    assert len(fake_smtp.messages) == 4 and fake_smtp.sessions == 1


def test_after_a_refusal_the_next_message_starts_a_fresh_session(fake_smtp: FakeSmtp) -> None:
    ch = plain(fake_smtp)
    ch.send(sample.alert(channel="email", key="ev1"), TO, None)
    fake_smtp.fail_next(1, code=451)
    with pytest.raises(DeliveryError) as err:
        ch.send(sample.alert(channel="email", key="ev2"), TO, None)
    assert not err.value.permanent
    ch.send(sample.alert(channel="email", key="ev3"), TO, None)
    assert len(fake_smtp.messages) == 2 and fake_smtp.sessions == 2


def test_a_session_the_server_hung_up_on_is_replaced_before_sending() -> None:
    server = FakeSmtp(idle_timeout=0.3).start()
    try:
        ch = plain(server)
        ch.send(sample.alert(channel="email", key="ev1"), TO, None)
        assert server.hung_up()  # the server closed the idle session
        ch.send(sample.alert(channel="email", key="ev2"), TO, None)  # no error: NOOP caught it
        assert len(server.messages) == 2 and server.sessions == 2
    finally:
        server.stop()


def test_a_session_is_retired_after_its_message_cap(
    fake_smtp: FakeSmtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(smtp_session, "MAX_MESSAGES", 2)
    ch = plain(fake_smtp)
    for n in range(5):
        ch.send(sample.alert(channel="email", key=f"ev{n}"), TO, None)
    assert len(fake_smtp.messages) == 5 and fake_smtp.sessions == 3

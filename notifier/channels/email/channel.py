"""Email over SMTP: text + HTML, one thread per incident per address.

Each alert's message to an address has a Message-ID derived from the alert's dedup
key and the address, so a message sent again (an attempt whose outcome was unknown:
SMTP offers no way to ask whether a message went out) carries the same Message-ID,
and mail clients and archives that collapse duplicates show it once. The first
message of a thread's Message-ID becomes the `thread_ref`; later messages carry
`In-Reply-To` and `References` with it, so mail clients group an incident. Feed
text is `html.escape`d in the HTML part and no feed-supplied URL becomes an `<a href>`.

TLS: implicit TLS when `ssl` is set or the port is 465, else STARTTLS when
`starttls` is set; sessions are kept open across a burst, at most
`max_sessions` per process (session.py).
Classification: 4xx replies, disconnects and timeouts are transient; 5xx replies
(550 no such user, 535 auth failed) are permanent.
"""

from __future__ import annotations

import hashlib
import html
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import ClassVar

from pydantic import SecretStr

from notifier.channels.base import (
    Channel,
    DeliveryError,
    SendResult,
    Target,
    connection_failed,
    redact,
    secret_values,
)
from notifier.channels.digest import Digest
from notifier.channels.email import digest as digest_mail
from notifier.channels.email.session import DEFAULT_LIMIT, SmtpSessions
from notifier.channels.memo import RenderMemo
from notifier.channels.render import (
    Presentation,
    catch_up_items,
    catch_up_title,
    change_line,
    fmt_time,
    impact_label,
    is_resolution,
    latest_body,
    notes,
    resolved_duration,
    status_label,
    truncate,
)
from notifier.config.schema.subscribers import Subscriber
from notifier.models import Alert, AlertKind
from notifier.text import one_line

SUBJECT_MAX = 200
TITLE_IN_BODY = 1_000
FEED_BODY_MAX = 50_000  # plain text; body_maxlen leaves room for the facts


@dataclass(frozen=True, slots=True)
class EmailTarget:
    address: str

    @property
    def id(self) -> str:
        return self.address.lower()


class EmailChannel(Channel):
    name: ClassVar[str] = "email"
    label: ClassVar[str] = "email"
    body_maxlen: ClassVar[int] = 100_000
    title_maxlen: ClassVar[int] = SUBJECT_MAX
    supports_threads: ClassVar[bool] = True
    sends_digests: ClassVar[bool] = True

    def __init__(
        self,
        host: str,
        port: int = 587,
        from_addr: str = "notifier@localhost",
        username: str | None = None,
        password: SecretStr | None = None,
        starttls: bool = True,
        use_ssl: bool = False,
        timeout: float = 20.0,
        ssl_context: ssl.SSLContext | None = None,
        presentation: Presentation | None = None,
        max_sessions: int = DEFAULT_LIMIT,
    ) -> None:
        self.host, self.port, self.from_addr = host, port, from_addr
        self.username = username
        self._password = password
        self.use_ssl = use_ssl or port == 465
        self.starttls = starttls and not self.use_ssl
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.presentation = presentation or Presentation()
        self.memo = RenderMemo()
        self._sessions = SmtpSessions(max_sessions)

    def secrets(self) -> tuple[str, ...]:
        return secret_values(self._password)

    def __repr__(self) -> str:
        return f"EmailChannel(host={self.host!r}, port={self.port}, user={self.username!r})"

    def targets(self, subscriber: Subscriber) -> list[Target]:
        route = subscriber.email
        return [EmailTarget(a) for a in route.to] if route is not None else []

    def send(self, alert: Alert, target: Target, thread_ref: str | None) -> SendResult:
        if not isinstance(target, EmailTarget):
            raise DeliveryError("email: wrong target type", permanent=True)
        msg = self.render(alert, target.address, thread_ref)
        self.deliver(msg)
        message_id = str(msg["Message-ID"])
        return SendResult(message_id=message_id, thread_ref=thread_ref or message_id)

    def render(self, alert: Alert, to: str, thread_ref: str | None) -> EmailMessage:
        # The subject and bodies are the same for every recipient of the event: once.
        title, text, html = self.memo.get("email", alert, lambda: (
            subject(alert, self.presentation), text_body(alert, self.presentation),
            html_body(alert, self.presentation),
        ))  # fmt: skip
        msg = self.new_message(to, title)
        msg.replace_header("Message-ID", self.message_id(alert.dedup_key, to))
        if thread_ref:
            msg["In-Reply-To"] = thread_ref
            msg["References"] = thread_ref
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
        return msg

    def send_digest(self, target: Target, digest: Digest) -> SendResult:
        if not isinstance(target, EmailTarget):
            raise DeliveryError("email: wrong target type", permanent=True)
        msg = self.new_message(target.address, digest_mail.subject(digest))
        msg.set_content(digest_mail.text_body(digest))
        msg.add_alternative(digest_mail.html_body(digest), subtype="html")
        self.deliver(msg)
        return SendResult(message_id=str(msg["Message-ID"]))

    def new_message(self, to: str, subject_line: str) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = subject_line
        msg["From"] = self.from_addr
        msg["To"] = to
        msg["Message-ID"] = make_msgid(domain=self.from_addr.rpartition("@")[2] or "localhost")
        msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
        return msg

    def message_id(self, dedup_key: str, to: str) -> str:
        """`<hash@domain>`, the same for every attempt of one alert to one address (and
        revealing neither: the key names the incident, the address is personal)."""
        digest = hashlib.sha256(f"{dedup_key}\n{to.lower()}".encode()).hexdigest()[:32]
        domain = self.from_addr.rpartition("@")[2].rstrip(">") or "localhost"
        return f"<{digest}.notifier@{domain}>"

    def deliver(self, msg: EmailMessage) -> None:
        """Send one message. Raises DeliveryError classified by the SMTP reply."""
        if "Date" not in msg:
            msg["Date"] = format_datetime(datetime.now(UTC))
        try:
            self._sessions.send(msg, self._open)
        except Exception as exc:  # classified below; anything else propagates as-is
            raise self.classify(exc) from None

    def _open(self) -> smtplib.SMTP:
        smtp = self._connect()
        try:
            if self.username and self._password is not None:
                smtp.login(self.username, self._password.get_secret_value())
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _connect(self) -> smtplib.SMTP:
        context = self.ssl_context or ssl.create_default_context()
        if self.use_ssl:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:
                smtp.starttls(context=context)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def classify(self, exc: Exception) -> Exception:
        secrets = self.secrets()
        if isinstance(exc, smtplib.SMTPRecipientsRefused):
            codes = [code for code, _ in exc.recipients.values()]
            transient = any(400 <= c < 500 for c in codes)
            return DeliveryError(f"smtp: recipient refused ({codes})", permanent=not transient)
        if isinstance(exc, smtplib.SMTPResponseException):
            text = (
                exc.smtp_error.decode("utf-8", "replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            detail = redact(one_line(text), secrets)[:120]
            return DeliveryError(
                f"smtp: {exc.smtp_code} {detail}", permanent=not 400 <= exc.smtp_code < 500
            )
        if isinstance(exc, ssl.SSLCertVerificationError | smtplib.SMTPNotSupportedError):
            return DeliveryError(f"smtp: {type(exc).__name__}", permanent=True)
        if isinstance(exc, smtplib.SMTPException | OSError):
            return connection_failed("smtp", exc, secrets)
        return exc


def subject(alert: Alert, p: Presentation) -> str:
    """`[OpenAI] Elevated errors on API — Investigating`."""
    if alert.kind is AlertKind.CATCH_UP:
        n = len(alert.caught_up)
        name = p.provider_name(alert.event.provider)
        return truncate(f"[{name}] Catch-up: {n} incident{'s' if n != 1 else ''} "
                        "while notifier was not watching", SUBJECT_MAX)  # fmt: skip
    inc = alert.event.incident
    line = f"[{p.provider_name(inc.provider)}] {one_line(inc.title)} — {status_label(inc.status)}"
    return truncate(line, SUBJECT_MAX)


def _facts(alert: Alert, p: Presentation) -> list[tuple[str, str]]:
    inc = alert.event.incident
    facts = [
        ("Status", status_label(inc.status)),
        ("Impact", impact_label(inc.impact)),
        ("Change", change_line(alert)),
    ]
    if inc.components:
        facts.append(("Components", ", ".join(one_line(c) for c in inc.components)))
    facts.append(("Started", fmt_time(inc.started_at)))
    if is_resolution(alert):
        facts.append(("Duration", resolved_duration(inc, alert.event.detected_at) or "unknown"))
    facts.append(("Detected", fmt_time(alert.event.detected_at)))
    url = p.url_for(inc)
    if url:
        facts.append(("Status page", url))
    return facts


def _title(alert: Alert) -> str:
    return truncate(one_line(alert.event.incident.title), TITLE_IN_BODY)


def _feed_body(alert: Alert) -> str:
    # A status page can post anything; the mail stays within body_maxlen.
    return truncate(latest_body(alert), FEED_BODY_MAX)


def text_body(alert: Alert, p: Presentation) -> str:
    if alert.kind is AlertKind.CATCH_UP:
        items = [f"- {truncate(item, FEED_BODY_MAX)}" for item in catch_up_items(alert)]
        return "\n".join([catch_up_title(alert, p) + ":", "", *items]) + "\n"
    inc = alert.event.incident
    lines = [f"{p.provider_name(inc.provider)}: {_title(alert)}", ""]
    lines += [f"{k}: {v}" for k, v in _facts(alert, p)]
    extra = notes(alert, p)
    if extra:
        lines += ["", *extra]
    body = _feed_body(alert)
    if body:
        lines += ["", body]
    return "\n".join(lines) + "\n"


def html_body(alert: Alert, p: Presentation) -> str:
    esc = html.escape
    if alert.kind is AlertKind.CATCH_UP:
        items = "".join(f"<li>{esc(item)}</li>" for item in catch_up_items(alert))
        return (f"<html><body><h2>{esc(catch_up_title(alert, p))}</h2>"
                f"<ul>{items}</ul></body></html>\n")  # fmt: skip
    inc = alert.event.incident
    rows = "".join(
        f"<tr><th align='left'>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in _facts(alert, p)
    )
    items = "".join(f"<li>{esc(n)}</li>" for n in notes(alert, p))
    body = esc(_feed_body(alert)).replace("\n", "<br>\n")
    return (
        "<html><body>"
        f"<h2>{esc(p.provider_name(inc.provider))}: {esc(_title(alert))}</h2>"
        f"<table>{rows}</table>"
        + (f"<ul>{items}</ul>" if items else "")
        + (f"<p>{body}</p>" if body else "")
        + "</body></html>\n"
    )

"""A real SMTP server (aiosmtpd) that records mail and can refuse on demand (made here).

Plain, STARTTLS (`tls_context=`) or implicit TLS (`implicit_tls=`), optional AUTH.
`fail_next(n, code=..., message=...)` answers the next RCPT with that reply, e.g.
451 (try later) or 550 (no such user).
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import threading
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Recorder:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.failures: list[tuple[int, str]] = []
        self.refuse_once: dict[str, tuple[int, str]] = {}  # address -> reply, used once
        self.sessions: set[Any] = set()  # client (host, port) of every session that sent mail
        self.hangups = threading.Semaphore(0)  # released once per connection that ended
        self.lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: Any) -> str:  # fmt: skip
        with self.lock:
            if self.failures:
                code, text = self.failures.pop(0)
                return f"{code} {text}"
            if address in self.refuse_once:
                code, text = self.refuse_once.pop(address)
                return f"{code} {text}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append(msg)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.sessions.add(session.peer)
        return "250 Message accepted"


class _CountingSMTP(SMTP):
    """aiosmtpd's server, telling the recorder when a client's session ends (either
    side); not the controller's own probe at start, which never says EHLO."""

    def connection_lost(self, error: Exception | None) -> None:
        greeted = self.session is not None and bool(self.session.host_name)
        super().connection_lost(error)
        if greeted:
            self.event_handler.hangups.release()


class _Controller(Controller):
    def factory(self) -> SMTP:
        return _CountingSMTP(self.handler, **self.SMTP_kwargs)


class FakeSmtp:
    def __init__(
        self,
        *,
        tls_context: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
        credentials: tuple[str, str] | None = None,
        idle_timeout: float | None = None,
    ) -> None:
        """`idle_timeout`: seconds after which the server hangs up on an idle session."""
        self.recorder = Recorder()
        self.port = free_port()
        self.credentials = credentials
        kwargs: dict[str, Any] = {}
        if tls_context is not None:
            kwargs.update(tls_context=tls_context, require_starttls=True)
        if implicit_tls is not None:
            kwargs.update(ssl_context=implicit_tls)
        if credentials is not None:
            kwargs.update(authenticator=self._auth, auth_require_tls=tls_context is not None)
        if idle_timeout is not None:
            kwargs.update(timeout=idle_timeout)
        self.controller: Controller = _Controller(
            self.recorder, hostname="127.0.0.1", port=self.port, ready_timeout=5, **kwargs
        )

    def _auth(self, server: Any, session: Any, envelope: Any, mechanism: str,
              auth_data: Any) -> AuthResult:  # fmt: skip
        ok = isinstance(auth_data, LoginPassword) and self.credentials == (
            auth_data.login.decode(),
            auth_data.password.decode(),
        )
        return AuthResult(success=ok, handled=False)

    @property
    def messages(self) -> list[EmailMessage]:
        return self.recorder.messages

    @property
    def sessions(self) -> int:
        """How many SMTP sessions delivered mail."""
        return len(self.recorder.sessions)

    def hung_up(self, timeout: float = 10) -> bool:
        """Wait until a connection has ended (the server's idle timeout, or the client);
        False if none did within `timeout`."""
        return self.recorder.hangups.acquire(timeout=timeout)

    def fail_next(self, n: int = 1, *, code: int = 451, message: str = "4.3.0 try later") -> None:
        with self.recorder.lock:
            self.recorder.failures.extend([(code, message)] * n)

    def refuse_once(self, address: str, *, code: int = 451, message: str = "4.3.0 later") -> None:
        """Answer the next RCPT TO this address with `code`."""
        with self.recorder.lock:
            self.recorder.refuse_once[address] = (code, message)

    def start(self) -> FakeSmtp:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

"""One SMTP session kept open (per process and thread) across a burst of mail.

Connecting costs a TCP handshake, STARTTLS or implicit TLS, and AUTH: several round
trips and a key exchange for every message of a fan-out or a digest run. A kept
session is checked with NOOP before it is reused (servers drop idle sessions),
retired after `MAX_MESSAGES` (servers cap messages per session) or `IDLE_S`, and
dropped after any error. A message is never re-sent on a fresh session after a
failure in its own transaction: the task layer retries it, and dedup keeps that safe.
"""

from __future__ import annotations

import os
import smtplib
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from email.message import EmailMessage

IDLE_S = 30.0
MAX_MESSAGES = 50


class SmtpSessions(threading.local):
    def __init__(self) -> None:
        self.kept: tuple[int, smtplib.SMTP, float, int] | None = None  # pid, session, used, sent

    def send(self, msg: EmailMessage, connect: Callable[[], smtplib.SMTP]) -> None:
        """Send `msg` on the kept session if it is still good, else on a new one."""
        smtp, sent = self._take(connect)
        try:
            smtp.send_message(msg)
        except BaseException:
            _close(smtp)
            raise
        if sent + 1 < MAX_MESSAGES:
            self.kept = (os.getpid(), smtp, time.monotonic(), sent + 1)
        else:
            _close(smtp, polite=True)

    def _take(self, connect: Callable[[], smtplib.SMTP]) -> tuple[smtplib.SMTP, int]:
        kept, self.kept = self.kept, None
        if kept is not None:
            pid, smtp, used, sent = kept
            if pid == os.getpid() and time.monotonic() - used < IDLE_S and _alive(smtp):
                return smtp, sent
            _close(smtp)
        return connect(), 0


def _alive(smtp: smtplib.SMTP) -> bool:
    try:
        return smtp.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


def _close(smtp: smtplib.SMTP, polite: bool = False) -> None:
    with suppress(smtplib.SMTPException, OSError):
        if polite:
            smtp.quit()
    smtp.close()

"""A bounded pool of SMTP sessions per process, kept open across a burst of mail.

Connecting costs a TCP handshake, STARTTLS or implicit TLS, and AUTH: several round
trips and a key exchange for every message of a fan-out or a digest run. A kept
session is checked with NOOP before it is reused (servers drop idle sessions),
retired after `MAX_MESSAGES` (servers cap messages per session) or `IDLE_S`, and
dropped after any error. A message is never re-sent on a fresh session after a
failure in its own transaction: the task layer retries it, and dedup keeps that safe.

Deliveries run on several threads, and mail servers limit concurrent sessions per
client (often to a handful): a process never has more than `limit` sessions open
(NOTIFIER_SMTP_MAX_SESSIONS). A sender takes an idle one, or opens one while under the
limit, else waits for one to come back; after `WAIT_S` it gives up for now (`NotYet`).
"""

from __future__ import annotations

import os
import smtplib
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from email.message import EmailMessage

from notifier.channels.base import NotYet

IDLE_S = 30.0
MAX_MESSAGES = 50
WAIT_S = 20.0  # well inside a delivery task's soft time limit
DEFAULT_LIMIT = 4


class SmtpSessions:
    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)  # sessions in use
        self._lock = threading.Lock()
        # Idle sessions, newest last: (pid, session, last used, messages sent on it).
        self._idle: list[tuple[int, smtplib.SMTP, float, int]] = []

    def send(self, msg: EmailMessage, connect: Callable[[], smtplib.SMTP]) -> None:
        """Send `msg` on a kept session if one is still good, else on a new one."""
        if not self._slots.acquire(timeout=WAIT_S):
            raise NotYet(f"smtp: all {self.limit} sessions busy", retry_after=5.0)
        try:
            smtp, sent = self._take(connect)
            try:
                smtp.send_message(msg)
            except BaseException:
                _close(smtp)
                raise
            if sent + 1 < MAX_MESSAGES:
                with self._lock:
                    self._idle.append((os.getpid(), smtp, time.monotonic(), sent + 1))
            else:
                _close(smtp, polite=True)
        finally:
            self._slots.release()

    def open_sessions(self) -> int:
        """Idle sessions kept now (those in use are not counted)."""
        with self._lock:
            return len(self._idle)

    def _take(self, connect: Callable[[], smtplib.SMTP]) -> tuple[smtplib.SMTP, int]:
        while True:
            with self._lock:
                kept = self._idle.pop() if self._idle else None
            if kept is None:
                return connect(), 0
            pid, smtp, used, sent = kept
            # A session inherited across a fork belongs to the parent: never use it.
            if pid == os.getpid() and time.monotonic() - used < IDLE_S and _alive(smtp):
                return smtp, sent
            if pid == os.getpid():
                _close(smtp)


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

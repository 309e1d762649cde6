"""The channel contract: one error type, one result type, one small base class.

A channel renders an `Alert` for its medium and hands it to its vendor once. It
never loops, retries or sleeps: it classifies the vendor's answer as a
`SendResult` or a `DeliveryError(permanent=...)` and the task layer alone
decides whether to try again (alertmanager's Retrier, healthchecks' transports).

Each channel builds its own targets from the subscriber's route it owns (healthchecks'
`Transport`), so the pipeline needs no per-channel code; see `Channel`. How a channel
is built from the settings, what it needs and how a route of it reads is its kind's to
say (`notifier.channels.kind`).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol

from pydantic import SecretStr

from notifier.channels.digest import Digest
from notifier.config.schema.oncall import Oncall
from notifier.config.schema.subscribers import Subscriber
from notifier.httpwait import bounded
from notifier.logs import RedactSecrets, scrub
from notifier.models import Alert
from notifier.store.delivery.pacing import Turn
from notifier.text import one_line

REDACTED = "**********"


class DeliveryError(Exception):
    """A send failed. `permanent` means retrying cannot help (bad number, revoked token).

    `retry_after` is the vendor's requested wait in seconds (HTTP 429 Retry-After).
    `unknown` means the request may have reached the vendor before it failed (a read
    timeout, a connection dropped before the answer): the outcome is unknown, and the
    next attempt looks for the message (`Channel.find_sent`) before sending again.
    The message is one line and never contains a secret.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        retry_after: float | None = None,
        unknown: bool = False,
    ):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        # A vendor's Retry-After is untrusted: finite and 15 minutes at most.
        self.retry_after = bounded(retry_after)
        self.unknown = unknown

    def __repr__(self) -> str:
        return (
            f"DeliveryError({self.message!r}, permanent={self.permanent}, "
            f"retry_after={self.retry_after}, unknown={self.unknown})"
        )

    def __reduce__(self) -> tuple[object, ...]:
        # Celery pickles exceptions across processes; keyword-only args need help.
        return (_rebuild_error, (self.message, self.permanent, self.retry_after, self.unknown))


def _rebuild_error(
    message: str, permanent: bool, retry_after: float | None, unknown: bool = False
) -> DeliveryError:
    return DeliveryError(message, permanent=permanent, retry_after=retry_after, unknown=unknown)


class NotYet(DeliveryError):
    """The alert cannot be tried yet: its thread's first message is still on its way,
    or another worker holds it. Waiting is not an attempt: it does not use up the
    retry budget and never ends in failure (what it waits for is bounded itself)."""

    def __init__(self, message: str, *, retry_after: float):
        super().__init__(message, permanent=False, retry_after=retry_after)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_wait, (self.message, self.retry_after))


def _rebuild_wait(message: str, retry_after: float) -> NotYet:
    return NotYet(message, retry_after=retry_after)


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the vendor gave back: its message id, and the reference later alerts of
    the same thread pass in (a Slack parent ts, an email Message-ID), if any."""

    message_id: str
    thread_ref: str | None = None


# ---- the contract ----------------------------------------------------------------


class Target(Protocol):
    """Where one message goes, as the channel that built it understands it.

    Each channel defines its own small frozen target type next to its code (a Slack
    channel id, a phone number, an address) and builds them in `Channel.targets`; the
    pipeline only keys progress and thread refs by `id`, which is never a secret."""

    @property
    def id(self) -> str: ...


class Channel(ABC):
    """One integration; the only place that knows its own name.

    A channel reads its own route from a subscriber (`targets`), renders for its
    medium, declares its limits and classifies its vendor's answers (`send`). The
    pipeline never branches on `name`: what it must treat differently is declared
    here as class attributes, so adding a channel is adding a subclass.

    Limits are declarative (apprise-style): each channel's renderer fits its text to
    them, and tests/test_channel_limits.py holds every channel to them. 0 means
    "no title" / "not applicable".
    """

    name: ClassVar[str]
    # How people call it in a sentence ("no Slack credentials").
    label: ClassVar[str] = ""
    body_maxlen: ClassVar[int] = 0
    title_maxlen: ClassVar[int] = 0
    supports_threads: ClassVar[bool] = False
    # Carries only pages and their resolutions: any other alert on a route of this
    # kind is not planned, and skipped if it reaches delivery anyway.
    pages_only: ClassVar[bool] = False
    # Sending means paging: the pipeline hands the alert to its pager (who is woken,
    # ack codes, escalation) instead of sending to `targets` itself.
    sends_by_paging: ClassVar[bool] = False
    # A subscriber's fallback onto this channel turns the failed alert into a page.
    fallback_pages: ClassVar[bool] = False
    # This channel sends the daily digest (`send_digest`) to its `targets`.
    sends_digests: ClassVar[bool] = False
    # Each target answers for itself (a webhook URL, a routing key): a 429's
    # Retry-After pauses that target alone, not the channel (pipeline.delivery.targets).
    pauses_per_target: ClassVar[bool] = False

    @abstractmethod
    def targets(self, subscriber: Subscriber) -> list[Target]:
        """Where `subscriber`'s alerts on this channel go, from its own route in the
        subscription file (empty when the subscriber has none)."""

    @abstractmethod
    def send(self, alert: Alert, target: Target, thread_ref: str | None) -> SendResult:
        """Deliver `alert` to `target` once. Raises `DeliveryError` on failure."""

    def turn(self, target: Target) -> Turn | None:
        """The pacing turn `send` takes for `target` before its request (None: none). The
        delivery may take it ahead, with the request's in-flight mark, and `send` is then
        answered from that (`Pacing.ahead`): the channel alone says what paces it."""
        return None

    def find_sent(
        self, alert: Alert, target: Target, thread_ref: str | None, since: datetime
    ) -> SendResult | None:
        """Look with the vendor for `alert`'s message to `target` that an earlier attempt,
        begun at `since`, may have left there (its outcome is unknown: the worker died,
        or the answer never came). Its result when found; None when it is not there or
        this vendor cannot be asked, and the caller sends again (at-least-once).
        Raises `DeliveryError` when the vendor could not be asked."""
        return None

    def request_timeout_s(self) -> float:
        """How long a request this channel began may still take to reach its vendor (its
        HTTP client's timeout). A dead worker's request is looked up (`find_sent`) only
        once that long has passed, so a late one is found, not sent twice. 0 for a channel
        that cannot look (its earlier message is sent again, at-least-once): nothing waits."""
        return 0.0

    def send_digest(self, target: Target, digest: Digest) -> SendResult:
        """Render `digest` for this medium and deliver it to `target` once. Only channels
        that declare `sends_digests` implement it; raises `DeliveryError` like `send`."""
        raise DeliveryError(f"{self.name}: does not send digests", permanent=True)

    def test_targets(self, subscriber: Subscriber, oncall: Oncall, now: datetime) -> list[Target]:
        """Where `notifier test-alert` sends for `subscriber`: its `targets` unless the
        channel resolves them when it sends (a pager)."""
        return self.targets(subscriber)

    def send_test(self, alert: Alert, target: Target) -> SendResult:
        """Send the clearly marked test `alert` to `target` once, outside any thread.
        Raises `DeliveryError` like `send`."""
        return self.send(alert, target, None)

    def secrets(self) -> tuple[str, ...]:
        """The secret strings this channel holds, for log redaction and tests."""
        return ()

    def can_send(self, target: Target) -> bool:
        """Whether this channel holds the credentials `target` needs."""
        return True


def secret_values(*secrets: SecretStr | str | None) -> tuple[str, ...]:
    out: list[str] = []
    for s in secrets:
        if s is None:
            continue
        value = s.get_secret_value() if isinstance(s, SecretStr) else s
        if value:
            out.append(value)
    return tuple(out)


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret replaced, percent-encoded spellings too; used on
    third-party exception text. Redact first, cut after: a cut can split a secret."""
    return scrub(text, secrets)


def connection_failed(
    vendor: str, exc: BaseException, secrets: Iterable[str], **kw: bool
) -> DeliveryError:
    """A transient `DeliveryError` for a request that got no answer, carrying the cause as
    the network stack told it (`slack: connection failed: [Errno 111] Connection refused`,
    `… certificate verify failed …`), one line, scrubbed of `secrets`, then the error's
    type. `kw` goes to DeliveryError (e.g. `unknown=`)."""
    return DeliveryError(
        f"{vendor}: connection failed: {cause_of(exc, secrets)} ({type(exc).__name__})",
        permanent=False,
        **kw,
    )


def cause_of(exc: BaseException, secrets: Iterable[str] = ()) -> str:
    """The innermost reason an exception names: a URLError's `reason`, an OSError's
    `strerror`, the exception it was raised from; else its own text."""
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = getattr(exc, "reason", None)
        if isinstance(inner, BaseException):
            exc = inner
            continue
        if isinstance(inner, str) and inner.strip():
            return redact(one_line(inner), secrets)[:160]
        cause = exc.__cause__ or exc.__context__
        if not str(exc).strip() and cause is not None:
            exc = cause
            continue
        break
    if isinstance(exc, OSError) and exc.strerror and not isinstance(exc.strerror, Exception):
        text = f"{exc.strerror}" + (f" [Errno {exc.errno}]" if exc.errno else "")
    else:
        text = str(exc) or type(exc).__name__
    return redact(one_line(text), secrets)[:160]


class DropSaidAgain(logging.Filter):
    """Drops the records that begin with one of `prefixes`: an SDK's own line about an
    error it then raises, which the channel turns into its DeliveryError, cause included,
    reported where it is handled. The SDK's line would say it a second time, unformatted."""

    def __init__(self, prefixes: Iterable[str]) -> None:
        super().__init__()
        self.prefixes = tuple(prefixes)

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefixes)


def redacting_logger(
    name: str, secrets: Iterable[str], said_again: Iterable[str] = ()
) -> logging.Logger:
    """A logger for a vendor SDK that scrubs `secrets` from every record it emits.

    slack_sdk's WebhookClient logs its URL (the secret) at DEBUG; twilio logs
    request headers. We hand each SDK its own logger with a redaction filter, so
    the scrub happens before any handler (including pytest's caplog) sees it.
    """
    logger = logging.getLogger(name)
    existing = [f for f in logger.filters if isinstance(f, RedactSecrets)]
    if not existing:
        logger.addFilter(RedactSecrets(()))
        existing = [f for f in logger.filters if isinstance(f, RedactSecrets)]
    # Several channel instances may share the name (tests, reloads): keep every secret.
    known = existing[0].secrets
    known.extend(s for s in secrets if len(s) >= 6 and s not in known)
    prefixes = tuple(said_again)
    if prefixes and not any(isinstance(f, DropSaidAgain) for f in logger.filters):
        logger.addFilter(DropSaidAgain(prefixes))
    return logger

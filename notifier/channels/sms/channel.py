"""Twilio SMS: one page in one segment to one number.

Who is paged (`pager`), ack codes (`acks`), escalation (`escalation`) and the rate cap (`cap`)
live next to this module, the page records in `notifier.store.delivery.pages`;
this module renders the text and classifies Twilio's answer.

The base URL override (`twilio_api_url`, for local fakes or a proxy) goes
through twilio's supported extension point, a custom `http_client`: ours
rewrites `https://api.twilio.com` to the configured base, remembers the last
Retry-After header (TwilioRestException does not carry it), and logs through a
redacting logger (twilio logs request URLs and headers at INFO/DEBUG).

Pacing (a shared `Pacing`): the sending number sends at most its rate
(NOTIFIER_TWILIO_RATE, 1 a second for a long code, with a small burst); an SMS over
it waits its turn (`NotYet`) instead of joining Twilio's own queue behind it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import requests
from pydantic import SecretStr
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from notifier.channels.base import (
    Channel,
    DeliveryError,
    NotYet,
    SendResult,
    Target,
    connection_failed,
    redact,
    redacting_logger,
    secret_values,
)
from notifier.channels.render import (
    Presentation,
    annotation_lines,
    finished_line,
    follow_up_sentence,
    impact_label,
    is_resolution,
    resolved_duration,
    shown_status,
    status_label,
)
from notifier.channels.slack.errors import retry_after
from notifier.channels.sms import gsm
from notifier.config.schema.oncall import Oncall
from notifier.config.schema.subscribers import Subscriber
from notifier.models import Alert, AlertKind, AnnotationKind, Status
from notifier.route.oncall import on_call
from notifier.store.delivery.pacing import Pacing, Rate
from notifier.text import one_line

TWILIO_API = "https://api.twilio.com"
LOOKUP_MARGIN_S = 60.0  # Twilio's clock and ours may differ
LOOKUP_LIMIT = 50  # messages to one number in the lookup window; pages are rarer than that
# 21211 invalid number, 21610 unsubscribed (STOP), 21614 not a mobile number,
# 21408 region not enabled, 21606 'from' not SMS-capable, 20003 auth failed.
PERMANENT_CODES = frozenset({21211, 21610, 21614, 21408, 21606, 21612, 20003, 20404})
# Twilio sends about 1 message a second from a long code and queues the rest.
NUMBER_RATE = Rate(per_second=1.0, burst=5)


class _HttpClient(TwilioHttpClient):
    def __init__(self, base_url: str | None, timeout: float, logger: logging.Logger) -> None:
        super().__init__(timeout=timeout, logger=logger)
        self.base_url = base_url.rstrip("/") if base_url else None
        self._last = threading.local()  # each sending thread reads its own answer

    @property
    def last_retry_after(self) -> float | None:
        """The Retry-After of this thread's last answer."""
        return getattr(self._last, "retry_after", None)

    @last_retry_after.setter
    def last_retry_after(self, value: float | None) -> None:
        self._last.retry_after = value

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if self.base_url and url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        self.last_retry_after = None
        response = super().request(method, url, *args, **kwargs)
        self.last_retry_after = retry_after(response.headers)
        return response


@dataclass(frozen=True, slots=True)
class SmsTarget:
    """One phone number (E.164). `ack_code` is set when the message is a page."""

    number: str
    ack_code: str | None = None

    @property
    def id(self) -> str:
        return self.number


class SmsChannel(Channel):
    """SMS wakes people: it carries pages and their resolutions only, sending one
    means paging (`notifier.channels.sms.pager.Pager` picks the numbers), and a
    fallback onto SMS is a page."""

    name: ClassVar[str] = "sms"
    label: ClassVar[str] = "SMS"
    body_maxlen: ClassVar[int] = gsm.GSM_LIMIT
    title_maxlen: ClassVar[int] = 0
    pages_only: ClassVar[bool] = True
    sends_by_paging: ClassVar[bool] = True
    fallback_pages: ClassVar[bool] = True

    def __init__(
        self,
        account_sid: str,
        auth_token: SecretStr,
        from_number: str,
        api_url: str | None = None,
        timeout: float = 10.0,
        presentation: Presentation | None = None,
        gate: Pacing | None = None,
        rate: Rate = NUMBER_RATE,
    ) -> None:
        self._gate, self.rate = gate, rate
        self.account_sid = account_sid
        self._auth_token = auth_token
        self.from_number = from_number
        self.presentation = presentation or Presentation()
        logger = redacting_logger("notifier.channels.sms.channel.twilio", self.secrets())
        self._http = _HttpClient(api_url, timeout, logger)
        self._client = Client(account_sid, auth_token.get_secret_value(), http_client=self._http)

    def secrets(self) -> tuple[str, ...]:
        return secret_values(self._auth_token)

    def __repr__(self) -> str:
        return f"SmsChannel(account_sid={self.account_sid!r}, from={self.from_number!r})"

    def targets(self, subscriber: Subscriber) -> list[Target]:
        """None: the pager resolves the route (numbers or an on-call rotation) when it
        pages, and picks escalation targets later."""
        return []

    def send(self, alert: Alert, target: Target, thread_ref: str | None) -> SendResult:
        if not isinstance(target, SmsTarget):
            raise DeliveryError("sms: wrong target type", permanent=True)
        if is_resolution(alert):
            text = resolved_text(alert, self.presentation)
        else:
            text = page_text(alert, target.ack_code, self.presentation)
        return SendResult(message_id=self.send_text(target.number, text), thread_ref=None)

    def test_targets(self, subscriber: Subscriber, oncall: Oncall, now: datetime) -> list[Target]:
        """The route's numbers, or for a rotation the member on call now (the one a page
        would wake first): a test is a real SMS, so nobody else is texted."""
        route = subscriber.sms
        if route is None:
            return []
        if route.rotation:
            rotation = oncall.rotations.get(route.rotation)
            return [SmsTarget(on_call(rotation, now).phone)] if rotation is not None else []
        return [SmsTarget(n) for n in route.to or ()]

    def send_test(self, alert: Alert, target: Target) -> SendResult:
        """A plain SMS in one segment: no ack code, no page, no rate cap."""
        if not isinstance(target, SmsTarget):
            raise DeliveryError("sms: wrong target type", permanent=True)
        text = gsm.fit("", one_line(alert.event.incident.title), ". No action needed").text
        return SendResult(message_id=self.send_text(target.number, text), thread_ref=None)

    def send_text(self, number: str, text: str) -> str:
        """Send one SMS; returns Twilio's message SID."""
        if self._gate is not None:
            wait = self._gate.take(f"twilio:from:{self.from_number}", self.rate)
            if wait is not None:
                raise NotYet(f"twilio: the sending number is at its rate; waiting {wait:.1f} s",
                              retry_after=wait)  # fmt: skip
        try:
            message = self._client.messages.create(to=number, from_=self.from_number, body=text)
        except TwilioRestException as exc:
            raise self._classify(exc) from None
        except (requests.ConnectionError, requests.Timeout, TwilioException, OSError) as exc:
            # Only a failed connect is sure not to have reached Twilio.
            raise connection_failed(
                "twilio", exc, self.secrets(), unknown=not _never_sent(exc)
            ) from None
        return str(message.sid)

    def find_text(self, number: str, texts: Collection[str], since: datetime) -> str | None:
        """The SID of a message with one of `texts` sent to `number` from our number since
        `since` (less a margin for clock skew), or None: what an attempt whose outcome
        is unknown may have left. Twilio filters on DateSent, which it sets once the
        carrier has taken the message, usually within seconds."""
        after = since - timedelta(seconds=LOOKUP_MARGIN_S)
        try:
            found = self._client.messages.list(
                to=number, from_=self.from_number, date_sent_after=after, limit=LOOKUP_LIMIT
            )
        except TwilioRestException as exc:
            raise self._classify(exc) from None
        except (requests.ConnectionError, requests.Timeout, TwilioException, OSError) as exc:
            raise DeliveryError(
                f"twilio: lookup failed ({type(exc).__name__})", permanent=False
            ) from None
        return next((str(m.sid) for m in found if m.body in texts), None)

    def _classify(self, exc: TwilioRestException) -> DeliveryError:
        status, code = int(exc.status), exc.code
        detail = redact(one_line(str(exc.msg or "")), self.secrets())[:120]
        message = f"twilio: HTTP {status} code {code}: {detail}"
        if status == 429 or code == 20429:
            return DeliveryError(message, permanent=False, retry_after=self._http.last_retry_after)
        if status >= 500:
            return DeliveryError(message, permanent=False)
        if status in (401, 403, 404) or code in PERMANENT_CODES:
            return DeliveryError(message, permanent=True)
        # Other 4xx: the request itself is wrong; repeating it cannot succeed.
        return DeliveryError(message, permanent=True)


def warm_client() -> None:
    """Load what twilio-python loads at a client's first message: its REST resources
    import lazily, on the first `client.messages` (about 70 ms of CPU on an idle machine,
    0.5 s or more beside a busy fan-out). A worker's main process calls this before its
    pool forks, so a pool process's first page does not pay it (it did, on the path
    where a page's every millisecond counts). No credentials are used, nothing is sent."""
    _ = Client(username="AC" + "0" * 32, password="not-a-token").messages


def _never_sent(exc: BaseException) -> bool:
    """The connection itself failed (refused, or no answer to connect): nothing reached
    Twilio. Any later failure may come after Twilio took the message."""
    if isinstance(exc, requests.ConnectTimeout | ConnectionRefusedError):
        return True
    inner = exc.args[0] if isinstance(exc, requests.ConnectionError) and exc.args else None
    return isinstance(getattr(inner, "reason", None), NewConnectionError)


def _note(alert: Alert) -> str:
    """The most useful annotation, upstream first."""
    order = [AnnotationKind.UPSTREAM, AnnotationKind.STATED_CAUSE, AnnotationKind.COINCIDENT]
    ranked = sorted(
        zip(alert.annotations, annotation_lines(alert), strict=True),
        key=lambda pair: order.index(pair[0].kind) if pair[0].kind in order else len(order),
    )
    return f". {ranked[0][1]}" if ranked else ""


def page_text(alert: Alert, code: str | None, p: Presentation) -> str:
    """`[MAJOR] OpenAI: Elevated errors on API. Upstream: ... Reply 4 K7 to ack`."""
    if alert.kind is AlertKind.FOLLOW_UP:
        return follow_up_text(alert)
    inc = alert.event.incident
    head = f"[{impact_label(inc.impact)}] {p.provider_name(inc.provider)}: "
    tail = f". Reply 4 {code} to ack" if code else ""
    note = _note(alert)
    if alert.kind is not AlertKind.NEW:  # a later change (one text for a burst): its latest status
        note = f". {status_label(shown_status(alert))}{note}"
    return gsm.fit(head, one_line(inc.title), note, tail).text


def resolved_text(alert: Alert, p: Presentation) -> str:
    """`[RESOLVED] GitHub: title. Lasted 3h 32m`; for an incident first seen already
    over, `... Began 16:24, resolved 19:56 UTC, seen at 04:47 UTC.` instead."""
    inc = alert.event.incident
    took = resolved_duration(inc, alert.event.detected_at)
    done = "COMPLETED" if inc.status is Status.COMPLETED else "RESOLVED"
    head = f"[{done}] {p.provider_name(inc.provider)}: "
    finished = finished_line(alert)
    tail = f". {finished}" if finished else f". Lasted {took}" if took else ""
    return gsm.fit(head, one_line(inc.title), "", tail).text


def follow_up_text(alert: Alert) -> str:
    """`Also down: +OpenAI critical (ChatGPT, API, Sora), likely caused by the Azure
    incident; affects chatbot`, in one segment: when every member does not fit with
    all its detail, components go first, then impacts, then the cause, so that every
    member stays named as long as names alone fit."""
    members = alert.folded
    head = "Also down: "
    for detail in ({}, {"components": False}, {"components": False, "impact": False}):
        text = gsm.encode(head + follow_up_sentence(members, **detail))
        if text.units <= text.limit:
            return text.text
    names = follow_up_sentence(members, components=False, impact=False, context=False)
    return gsm.fit(head, names).text

"""Slack's answers as `DeliveryError`s: which errors a retry can fix, and how long
Slack asked us to wait.

429, 5xx and the transient codes retry; 404, the documented permanent codes and any
other client error a retry cannot fix do not. A thread whose parent is gone is not an
error of the attempt: the channel starts a new thread (`ThreadGoneError`).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.error import URLError

from notifier.channels.base import DeliveryError, redact
from notifier.httpwait import retry_after as read_retry_after

log = logging.getLogger(__name__)

PERMANENT_ERRORS = frozenset({
    "channel_not_found", "not_in_channel", "invalid_auth", "account_inactive", "is_archived",
    "token_revoked", "token_expired", "not_authed", "missing_scope", "no_permission",
    "restricted_action", "invalid_blocks", "invalid_blocks_format", "msg_too_long",
    "no_text", "too_many_attachments", "invalid_arguments", "invalid_token", "no_service",
    "action_prohibited", "posting_to_general_channel_denied", "channel_is_archived",
    "ekm_access_denied", "team_access_not_granted", "cant_update_message", "edit_window_closed",
})  # fmt: skip
TRANSIENT_ERRORS = frozenset({
    "ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable",
    "request_timeout", "team_added_to_org",
})  # fmt: skip
THREAD_GONE = frozenset({"message_not_found", "thread_not_found"})


class ThreadGoneError(Exception):
    """The thread's parent message was deleted (or never was): post a new parent."""


def refused(exc: BaseException) -> bool:
    """The request never left: the connection was refused, so nothing reached Slack."""
    reason = exc.reason if isinstance(exc, URLError) else exc
    while isinstance(reason, URLError):
        reason = reason.reason
    return isinstance(reason, ConnectionRefusedError)


def classify(status: int, error: str, headers: Any, secrets: tuple[str, ...]) -> DeliveryError:
    """Slack's answer as a DeliveryError: 429/5xx/transient codes retry, the rest do not."""
    error = redact(error, secrets)[:80]
    message = f"slack: HTTP {status} {error}"
    if status == 429 or error in {"ratelimited", "rate_limited"}:
        return DeliveryError(message, permanent=False, retry_after=retry_after(headers))
    if status >= 500 or error in TRANSIENT_ERRORS:
        return DeliveryError(message, permanent=False)
    # 404, the documented permanent codes, and any other client error a retry cannot fix
    if error not in PERMANENT_ERRORS:
        log.warning("unknown Slack error %r treated as permanent", error)
    return DeliveryError(message, permanent=True)


def retry_after(headers: Any) -> float | None:
    """The seconds a Retry-After header asks for (Slack's and Twilio's), or None."""
    if not headers:
        return None
    value = None
    for key in ("Retry-After", "retry-after"):
        value = headers.get(key)
        if value:
            break
    if isinstance(value, list):
        value = value[0] if value else None
    # Finite and 15 minutes at most: a vendor's answer is untrusted (notifier.httpwait).
    return read_retry_after(value) if isinstance(value, str) else None


def first_word(body: str | None) -> str:
    text = (body or "").strip()
    if text.startswith("{"):
        try:
            return str(json.loads(text).get("error", "unknown"))
        except (ValueError, AttributeError):
            return "unknown"
    match = re.match(r"[a-z_]+", text)
    return match.group(0) if match else "unknown"

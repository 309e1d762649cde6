"""Slack incoming webhooks: each alert a complete message of its own.

Webhooks cannot thread or edit (they return no ts), and a webhook post cannot be
looked up after an unknown outcome: it stays at-least-once. The URL is a secret: it
is never printed, and a malformed one is described, not quoted.
"""

from __future__ import annotations

import logging
from typing import cast
from urllib.error import URLError

from pydantic import SecretStr
from slack_sdk.webhook import WebhookClient

from notifier.channels.base import DeliveryError, SendResult, connection_failed, redacting_logger
from notifier.channels.render import Presentation
from notifier.channels.slack import blocks as slack_blocks
from notifier.channels.slack.errors import classify, first_word, refused
from notifier.models import Alert
from notifier.safeurl import split_clean

MALFORMED_WEBHOOK = "slack webhook: malformed webhook URL (check slack.webhook_url)"


def well_formed(url: str) -> bool:
    """An http(s) URL with a host, a valid port and no whitespace or control characters."""
    parts = split_clean(url)
    return parts is not None and parts.scheme in ("http", "https")


def send_webhook(
    alert: Alert,
    url: SecretStr,
    timeout: float,
    sdk_log: logging.Logger,
    presentation: Presentation,
    secrets: tuple[str, ...],
) -> SendResult:
    """Post `alert` to the webhook `url` once. Raises `DeliveryError`."""
    secret = url.get_secret_value()
    # A subscriber's own webhook is not among the secrets we were built with.
    redacting_logger(sdk_log.name, (secret,))
    if not well_formed(secret):
        raise DeliveryError(MALFORMED_WEBHOOK, permanent=True)
    client = WebhookClient(secret, timeout=cast(int, timeout), logger=sdk_log, retry_handlers=[])
    message = slack_blocks.parent_message(alert, presentation, include_body=True)
    try:
        response = client.send(text=message["text"], blocks=message["blocks"])
    except (URLError, TimeoutError, ConnectionError) as exc:
        raise connection_failed(
            "slack webhook", exc, (*secrets, secret), unknown=not refused(exc)
        ) from None
    except (ValueError, OverflowError, TypeError):
        # urllib/http.client reject the URL itself (their text quotes it: a secret).
        raise DeliveryError(MALFORMED_WEBHOOK, permanent=True) from None
    if response.status_code == 200:
        # Webhooks return no ts: there is nothing to thread on.
        return SendResult(message_id=f"webhook:{alert.dedup_key}", thread_ref=None)
    error = first_word(response.body)
    raise classify(response.status_code, error, response.headers, (*secrets, secret))

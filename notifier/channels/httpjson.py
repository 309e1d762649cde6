"""One JSON POST to a vendor's HTTP API, and its answer classified the one way every
HTTP channel does: 2xx sent; 429 retry (after the vendor's Retry-After); 408 and 5xx
retry; any other 4xx permanent (a bad key or payload does not heal by waiting); a
connection failure or timeout retry. Never a retry here: the pipeline decides.

Messages are one line and scrubbed of the secrets the caller names: a vendor may echo
a key back in its error body.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any

import httpx

from notifier.channels.base import DeliveryError, connection_failed, redact
from notifier.config.schema.fields import SECRET_NOT_NAME, looks_like_secret
from notifier.httpwait import retry_after as read_retry_after
from notifier.text import one_line

USER_AGENT = "notifier (+https://github.com/notifier)"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def env_key(vendor: str, name: str) -> str:
    """The secret a route names by its environment variable; a permanent error when unset."""
    value = os.environ.get(name, "")
    if not value:
        raise DeliveryError(f"{vendor}: {env_named(name)} is not set", permanent=True)
    return value


def env_named(name: str) -> str:
    """An environment variable's name for a message, unless it looks like a pasted
    secret: then never echoed."""
    if looks_like_secret(name):
        return f"the variable named in the route ({SECRET_NOT_NAME}; not shown)"
    return name


def client() -> httpx.Client:
    """A keep-alive client for one channel in one process; redirects are not followed
    (a POST that moved is a configuration problem, not something to chase)."""
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False,
                        headers={"User-Agent": USER_AGENT})  # fmt: skip


def post_json(
    http: httpx.Client,
    url: str,
    payload: Mapping[str, Any] | bytes,
    vendor: str,
    *,
    headers: Mapping[str, str] | None = None,
    secrets: tuple[str, ...] = (),
) -> httpx.Response:
    """POST `payload` (a mapping, or JSON bytes already made) once; the 2xx response, or
    a classified `DeliveryError`."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    try:
        response = http.post(
            url, content=body, headers={"Content-Type": "application/json", **(headers or {})}
        )
    except httpx.TimeoutException:
        raise DeliveryError(f"{vendor}: timed out", permanent=False) from None
    except (httpx.HTTPError, ValueError) as exc:  # a URL httpx refuses is a ValueError kin
        raise connection_failed(vendor, exc, secrets) from None
    if 200 <= response.status_code < 300:
        return response
    raise classify(vendor, response.status_code, response.text, response.headers, secrets)


def classify(
    vendor: str, status: int, body: str, headers: Mapping[str, str], secrets: tuple[str, ...]
) -> DeliveryError:
    message = f"{vendor}: HTTP {status}"
    reason = _reason(body, secrets)
    if reason:
        message += f" {reason}"
    if status == 429:
        return DeliveryError(message, permanent=False, retry_after=retry_after(headers))
    if status == 408 or status >= 500:
        return DeliveryError(message, permanent=False)
    return DeliveryError(message, permanent=True)


def _reason(body: str, secrets: tuple[str, ...] = ()) -> str:
    """A few words of the vendor's error: its JSON `message`/`error`, else the text.
    Redacted BEFORE it is cut: a cut through a secret leaves a piece no filter knows."""
    text = body.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if isinstance(data, dict):
            found = data.get("message") or data.get("error") or data.get("status") or ""
            text = found if isinstance(found, str) else json.dumps(found)
    return redact(one_line(re.sub(r"\s+", " ", redact(text, secrets))), secrets)[:120]


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The vendor's Retry-After: finite, 15 minutes at most (notifier.httpwait)."""
    return read_retry_after(headers.get("retry-after") or headers.get("Retry-After"))

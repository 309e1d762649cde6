"""One synthetic probe of a provider's own endpoint: HEAD or GET, bounded in time,
no body read, no redirects followed, no credentials unless the probe names a header
whose value comes from an environment variable (a `SecretStr`, never logged).

A probe fails on a status outside `expect_status`, a timeout, or a connection error;
`ProbeResult.cause` says which in a word or two ("timeout", "HTTP 503",
"connection refused"), host and path only, never a query string or header.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import httpx
from pydantic import SecretStr

from notifier.feeds.errors import Cause
from notifier.feeds.fetch import USER_AGENT, classify
from notifier.feeds.guard import AddressRefused, GuardedTransport, Network, deadline

_SAYS = {
    Cause.DNS: "DNS failure",
    Cause.REFUSED: "connection refused",
    Cause.TLS: "TLS error",
    Cause.NETWORK: "connection error",
}


@dataclass(frozen=True, slots=True)
class ProbeResult:
    ok: bool
    status: int | None  # the HTTP status, when one came back
    cause: str | None  # why it failed, in a word or two (None when ok)
    seconds: float


class Prober:
    """Probes through one reused HTTP client (keep-alive, like a real client)."""

    def __init__(self, allow: tuple[Network, ...] = ()) -> None:
        """`allow`: networks beyond the public internet a probe may reach
        (NOTIFIER_FETCH_ALLOW_NETWORKS; notifier.feeds.guard)."""
        self._client = httpx.Client(
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            transport=GuardedTransport(allow),
        )

    def close(self) -> None:
        self._client.close()

    def check(
        self,
        url: str,
        method: Literal["GET", "HEAD"],
        expect_status: tuple[int, ...] | list[int],
        timeout: float,
        header: tuple[str, SecretStr] | None = None,
    ) -> ProbeResult:
        headers = {header[0]: header[1].get_secret_value()} if header is not None else {}
        started = time.monotonic()
        try:
            # `timeout` is wall-clock for the whole probe: a server trickling its
            # headers cannot hold it longer.
            with (
                deadline(timeout),
                self._client.stream(
                    method, url, headers=headers, timeout=httpx.Timeout(timeout)
                ) as response,
            ):
                status = response.status_code  # the body is never read: status is the answer
        except AddressRefused as exc:
            return ProbeResult(False, None, str(exc), time.monotonic() - started)
        except httpx.TimeoutException:
            return ProbeResult(False, None, "timeout", time.monotonic() - started)
        except httpx.HTTPError as exc:
            return ProbeResult(False, None, _SAYS[classify(exc)], time.monotonic() - started)
        except (ValueError, UnicodeError):  # a URL httpx cannot build a request for
            return ProbeResult(False, None, "invalid URL", time.monotonic() - started)
        took = time.monotonic() - started
        if status in expect_status:
            return ProbeResult(True, status, None, took)
        return ProbeResult(False, status, f"HTTP {status}", took)


__all__ = ["ProbeResult", "Prober"]

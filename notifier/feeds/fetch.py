"""Fetch a feed: conditional GET, bounded time, bounded size, safe errors.

One `httpx.Client` is reused across fetches. The body is read raw and
decompressed here, chunk by chunk with an output limit, so a gzip bomb is
stopped as soon as the DECOMPRESSED size passes `max_bytes` (httpx's own
decoders inflate a whole network chunk at once). A body in a charset that only
the Content-Type header names is handed on as UTF-8 (see charset.py). Error
messages name the host and path only: query strings may carry tokens.

Every connection goes through the address guard (`notifier.feeds.guard`): redirects
are followed here one hop at a time, each hop's resolved address checked and dialled
as checked, and one wall-clock deadline (`total_timeout`) covers the whole request,
headers included. A server's Retry-After is read by `notifier.httpwait`: finite, and
15 minutes at most.
"""

from __future__ import annotations

import hashlib
import socket
import ssl
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from notifier import __version__
from notifier.feeds.charset import to_utf8
from notifier.feeds.errors import Cause, FetchError, TooLargeError
from notifier.feeds.guard import AddressRefused, GuardedTransport, Network, deadline, same_site
from notifier.httpwait import MAX_WAIT_S, retry_after

USER_AGENT = f"notifier/{__version__} (+https://github.com/notifier)"
MAX_REDIRECTS = 5
DEFAULT_429_WAIT_S = 60.0
MAX_RETRY_AFTER_S = MAX_WAIT_S  # a hint beyond this is a mistake or hostile: 15 minutes at most


@dataclass(frozen=True, slots=True)
class FetchResult:
    status: int  # 200 (body present) or 304 (not modified, body None)
    body: bytes | None
    etag: str | None
    last_modified: str | None
    body_hash: str | None  # sha256 hex of body


def safe_url(url: str | httpx.URL) -> str:
    """host + path: what an error message may show of a URL."""
    parts = urlsplit(str(url))
    return f"{parts.hostname or '?'}{parts.path or '/'}"


_SAYS = {
    Cause.DNS: "DNS lookup failed",
    Cause.REFUSED: "connection refused",
    Cause.TLS: "TLS error",
    Cause.NETWORK: "network error",
}
# When the exception chain lost the OS error, its text still names it (glibc, macOS).
_DNS_TEXT = ("name or service not known", "nodename nor servname", "name resolution",
             "no address associated", "getaddrinfo")  # fmt: skip


def classify(exc: BaseException) -> Cause:
    """DNS, refused, TLS or another network error, from the OS error under httpx's."""
    seen: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in seen and len(seen) < 10:
        seen.append(link)
        if isinstance(link, socket.gaierror):
            return Cause.DNS
        if isinstance(link, ConnectionRefusedError):
            return Cause.REFUSED
        if isinstance(link, ssl.SSLError):
            return Cause.TLS
        link = link.__cause__ or link.__context__
    text = " ".join(str(e) for e in seen).lower()
    if any(mark in text for mark in _DNS_TEXT):
        return Cause.DNS
    if "connection refused" in text or "errno 111" in text:
        return Cause.REFUSED
    if "ssl" in text or "certificate" in text:
        return Cause.TLS
    return Cause.NETWORK


class _Inflater:
    """Content-Encoding decoder with a hard cap on output."""

    def __init__(self, encoding: str) -> None:
        encoding = encoding.strip().lower()
        if encoding in {"", "identity"}:
            self._z = None
        elif encoding in {"gzip", "x-gzip"}:
            self._z = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._z = zlib.decompressobj(32 + zlib.MAX_WBITS)  # zlib or gzip header, auto
        else:
            raise FetchError(f"unsupported Content-Encoding {encoding[:20]!r}", Cause.UNREADABLE)

    def feed(self, data: bytes, room: int) -> Iterator[bytes]:
        """Decompressed pieces of `data`; stops once more than `room` bytes came out."""
        if self._z is None:
            yield data
            return
        try:
            out = self._z.decompress(data, room + 1)
            yield out
            while self._z.unconsumed_tail and len(out) <= room:
                room -= len(out)
                out = self._z.decompress(self._z.unconsumed_tail, room + 1)
                yield out
        except zlib.error:
            raise FetchError("corrupt compressed body", Cause.UNREADABLE) from None


class Fetcher:
    """Conditional GETs of feed URLs through one reused HTTP client."""

    def __init__(
        self,
        timeout: float = 10,
        connect_timeout: float = 5,
        max_bytes: int = 5_000_000,
        user_agent: str = USER_AGENT,
        total_timeout: float | None = None,
        allow: tuple[Network, ...] = (),
    ) -> None:
        """`allow`: networks the address guard lets through beyond the public internet
        (NOTIFIER_FETCH_ALLOW_NETWORKS); see notifier.feeds.guard."""
        self.max_bytes = max_bytes
        # A server dripping one byte per read (headers included) never trips the read
        # timeout; this wall-clock deadline over the whole request does.
        self.total_timeout = total_timeout if total_timeout is not None else 3 * timeout
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            follow_redirects=False,  # followed here, one checked hop at a time
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
            transport=GuardedTransport(allow),
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(
        self,
        url: str,
        etag: str | None = None,
        last_modified: str | None = None,
        *,
        site: str | None = None,
    ) -> FetchResult:
        """GET `url`; 304 gives `body=None` and keeps the validators we sent.

        Redirects are followed up to MAX_REDIRECTS, each hop's address checked by the
        guard; with `site` (a registrable domain, notifier.feeds.guard.site_of) every hop must
        stay within it. Raises `FetchError` (network, timeout, HTTP >= 400, too many
        redirects, a refused address or site) and `TooLargeError` (body past
        `max_bytes` after decompression). One deadline covers every hop.
        """
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        where = safe_url(url)
        try:
            with deadline(self.total_timeout):
                return self._follow(url, headers, etag, last_modified, site)
        except httpx.TimeoutException:
            raise FetchError(f"timed out fetching {where}", Cause.TIMEOUT) from None
        except httpx.InvalidURL:
            raise FetchError(f"invalid feed URL {where}") from None
        except httpx.HTTPError as exc:
            cause = classify(exc)
            raise FetchError(f"{_SAYS[cause]} fetching {where}", cause) from None
        except (ValueError, UnicodeError):  # a URL httpx cannot even build a request for
            raise FetchError(f"invalid feed URL {where}") from None

    def _follow(
        self, url: str, headers: dict[str, str], etag: str | None, last_modified: str | None,
        site: str | None,
    ) -> FetchResult:  # fmt: skip
        if site is not None and not same_site(url, site):
            raise AddressRefused(f"refused: {safe_url(url)} is outside the site {site}")
        request = self._client.build_request("GET", url, headers=headers)
        for _hop in range(MAX_REDIRECTS + 1):
            response = self._client.send(request, stream=True)
            try:
                following = response.next_request if response.is_redirect else None
                if following is None:
                    return self._result(response, etag, last_modified)
                response.read()  # hands the connection back to the pool
            finally:
                response.close()
            target = str(following.url)
            if following.url.scheme not in ("http", "https"):
                raise FetchError(f"redirect to a non-web address from {safe_url(request.url)}")
            if site is not None and not same_site(target, site):
                message = f"refused: redirect to {safe_url(target)} is outside the site {site}"
                raise AddressRefused(message)
            request = following
        message = f"more than {MAX_REDIRECTS} redirects from {safe_url(url)}"
        raise FetchError(message, Cause.REDIRECTS)

    def _result(
        self, response: httpx.Response, etag: str | None, last_modified: str | None
    ) -> FetchResult:
        where = safe_url(response.url)
        if response.status_code == 304:
            # A 304 has no body by definition; reading the empty one hands the connection
            # back to the pool. Left unread, httpx closes it and the next poll reconnects.
            response.read()
            return FetchResult(
                304,
                None,
                response.headers.get("ETag", etag),
                response.headers.get("Last-Modified", last_modified),
                None,
            )
        if response.status_code >= 400:
            code = response.status_code
            wait = retry_after(response.headers.get("Retry-After")) if code in (429, 503) else None
            if code == 429 and wait is None:
                wait = DEFAULT_429_WAIT_S  # rate-limited without a hint: still back off
            raise FetchError(
                f"HTTP {code} from {where}", Cause.HTTP, http_status=code, retry_after=wait
            )
        body = to_utf8(self._read(response, where), response.charset_encoding)
        return FetchResult(
            200,
            body,
            response.headers.get("ETag"),
            response.headers.get("Last-Modified"),
            hashlib.sha256(body).hexdigest(),
        )

    def _read(self, response: httpx.Response, where: str) -> bytes:
        inflater = _Inflater(response.headers.get("Content-Encoding", ""))
        ends = time.monotonic() + self.total_timeout
        chunks: list[bytes] = []
        size = 0
        for raw in response.iter_raw():
            for piece in inflater.feed(raw, self.max_bytes - size):
                size += len(piece)
                if size > self.max_bytes:
                    raise TooLargeError(f"body from {where} is over {self.max_bytes} bytes")
                chunks.append(piece)
            if time.monotonic() > ends:
                raise FetchError(f"timed out reading {where}", Cause.TIMEOUT)
        return b"".join(chunks)

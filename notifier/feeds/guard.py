"""Where the service may connect, and for how long: the address guard every outbound
feed request (polls, discovery, history lookups, probes) goes through.

The check is made on the address a name RESOLVED to, at connect time, and the socket
then connects to that same address: a name that answers a public address to the check
and 127.0.0.1 to the connect (DNS rebinding) cannot get in between. Redirect hops are
new connections, so each is checked the same way. Host header and TLS SNI keep the
name (httpcore sends them from the URL, not from the socket's peer).

Refused unless `NOTIFIER_FETCH_ALLOW_NETWORKS` (comma-separated CIDRs) allows them:
loopback, private (RFC 1918, fc00::/7), link-local (169.254.0.0/16, fe80::/10, cloud
metadata), CGNAT (100.64.0.0/10), multicast, unspecified and every other range IANA
says is not globally reachable.

`deadline(seconds)` bounds a whole request in wall-clock time: every connect, TLS
handshake, write and read (headers included) gets at most what is left of it, so a
server trickling its headers a byte at a time cannot hold a fetch past it.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from notifier.feeds.errors import Cause, FetchError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
ALLOW_SETTING = "NOTIFIER_FETCH_ALLOW_NETWORKS"
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_DEADLINE: ContextVar[float | None] = ContextVar("notifier_fetch_deadline", default=None)


class AddressRefused(FetchError):
    """The name resolved to an address the service may not connect to."""

    cause = Cause.FORBIDDEN


# A host's site: its registrable domain ('example.com' of 'status.example.com',
# 'example.co.uk' of 'status.example.co.uk'). Discovery follows links and redirects only
# within the status page's own site. Without the whole Public Suffix List this is the
# common rule: the last two labels, or three when the second-level label is one of the
# generic ones country domains register under. An IP address is its own site.
_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go"})


def site_of(host: str) -> str:
    """The registrable domain of `host` (lower case, no trailing dot)."""
    host = host.strip("[]").rstrip(".").lower()
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def same_site(url: str, site: str) -> bool:
    """Whether `url`'s host belongs to `site` (a `site_of` result)."""
    host = urlsplit(url).hostname or ""
    return bool(host) and site_of(host) == site


def parse_networks(text: str | Iterable[str]) -> tuple[Network, ...]:
    """CIDRs from 'a/8, b/16' (or a list); ValueError naming the bad entry."""
    items = text.split(",") if isinstance(text, str) else list(text)
    out: list[Network] = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item[:60]!r} is not a network in CIDR form (10.0.0.0/8)") from None
    return tuple(out)


def kind(ip: Address) -> str | None:
    """Why `ip` is not a public address ('loopback', 'private', ...); None when it is."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return kind(ip.ipv4_mapped)
    for name, hit in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("carrier-grade NAT", ip in _CGNAT),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved or not ip.is_global),
    ):
        if hit:
            return name
    return None


def check(ip: Address, allow: Iterable[Network]) -> None:
    """Raise `AddressRefused` unless `ip` is public or inside an allowed network."""
    why = kind(ip)
    if why is None or any(ip.version == n.version and ip in n for n in allow):
        return
    raise AddressRefused(f"refused: {ip} is a private address; allow it with {ALLOW_SETTING}")


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every socket operation inside gets at most what is left of `seconds`."""
    token = _DEADLINE.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _left(timeout: float | None, late: type[Exception]) -> float | None:
    end = _DEADLINE.get()
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise late("the request's total time ran out")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    """A socket stream whose every operation is bounded by the request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        limit = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, limit))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Resolve, check every address, connect to a checked one: never the name again."""

    def __init__(self, allow: Iterable[Network] = ()) -> None:
        self.allow = tuple(allow)
        self._plain = httpcore.SyncBackend()

    def connect_tcp(
        self, host: str, port: int, timeout: float | None = None,
        local_address: str | None = None, socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:  # fmt: skip
        limit = _left(timeout, httpcore.ConnectTimeout)
        addresses = resolve(host, port)
        allowed: list[Address] = []
        first_refusal: AddressRefused | None = None
        for ip in addresses:
            try:
                check(ip, self.allow)
                allowed.append(ip)
            except AddressRefused as exc:
                first_refusal = first_refusal or exc
        if not allowed:
            assert first_refusal is not None
            raise first_refusal
        error: Exception | None = None
        for ip in allowed:
            try:
                stream = self._plain.connect_tcp(
                    str(ip), port, limit, local_address, socket_options
                )
                return _Stream(stream)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:  # fmt: skip
        raise AddressRefused("refused: a unix socket is not a feed address")

    def sleep(self, seconds: float) -> None:
        self._plain.sleep(seconds)


def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to, in the resolver's order (an IP stays itself)."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise httpcore.ConnectError(f"name resolution failed: {exc}") from exc
    seen: list[Address] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if ip not in seen:
            seen.append(ip)
    return seen


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's one verifying TLS context, shared by every feed and probe client
    (an SSLContext serves any number of connections, on any thread). Each context loads
    the whole CA bundle, about 20 ms of CPU on an idle machine: every Runtime built two,
    in every pool process, and a pool process forked after the first inherits it."""
    return httpx.create_ssl_context()


class GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport, with its connection pool dialling through the guard."""

    def __init__(self, allow: Iterable[Network] = (), **limits: Any) -> None:
        context = tls_context()
        super().__init__(verify=context, **limits)  # else it loads a context of its own
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(allow),
        )


__all__ = [
    "ALLOW_SETTING",
    "AddressRefused",
    "GuardedTransport",
    "check",
    "deadline",
    "kind",
    "parse_networks",
    "same_site",
    "site_of",
]

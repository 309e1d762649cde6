"""Where the fetcher and the prober may connect, and for how long: real servers on
127.0.0.1, the address guard refusing what NOTIFIER_FETCH_ALLOW_NETWORKS does not allow."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from notifier.config.settings import Settings
from notifier.feeds.discover.find import discover
from notifier.feeds.errors import FetchError, cause_words
from notifier.feeds.fetch import Fetcher
from notifier.feeds.guard import AddressRefused, check, kind, parse_networks, site_of
from notifier.feeds.probe import Prober
from tests.support.local import LOCAL

FEED = b"<rss version='2.0'><channel><title>made here</title></channel></rss>"
ONLY_127_0_0_1 = parse_networks("127.0.0.1/32")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/to/"):  # /to/<absolute URL>: a 302 there
            self.send_response(302)
            self.send_header("Location", self.path[len("/to/") :])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.startswith("/limited/"):  # /limited/<Retry-After value>: a 429
            self.send_response(429)
            self.send_header("Retry-After", self.path[len("/limited/") :].replace("%20", " "))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/page":
            body = (b"<html><head><link rel='alternate' type='application/rss+xml' "
                    b"href='http://169.254.169.254/latest/meta-data/'></head></html>")  # fmt: skip
            ctype = "text/html"
        else:
            body, ctype = FEED, "application/rss+xml"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
     "224.0.0.1", "0.0.0.0", "::1", "fc00::1", "fe80::1", "::", "::ffff:127.0.0.1", "ff02::1"],
)  # fmt: skip
def test_private_and_special_addresses_are_refused(address: str) -> None:
    with pytest.raises(AddressRefused, match="NOTIFIER_FETCH_ALLOW_NETWORKS"):
        check(ipaddress.ip_address(address), ())


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert kind(ipaddress.ip_address(address)) is None


def test_an_allowed_network_lets_its_addresses_through() -> None:
    check(ipaddress.ip_address("10.1.2.3"), parse_networks("10.0.0.0/8"))
    with pytest.raises(AddressRefused):
        check(ipaddress.ip_address("10.1.2.3"), parse_networks("192.168.0.0/16, fc00::/7"))


def test_a_loopback_feed_is_refused_with_the_setting_to_allow_it(base: str) -> None:
    with Fetcher(timeout=2) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(f"{base}/feed")
    assert str(caught.value) == (
        "refused: 127.0.0.1 is a private address; allow it with NOTIFIER_FETCH_ALLOW_NETWORKS"
    )
    assert caught.value.cause_code == "forbidden"
    assert "NOTIFIER_FETCH_ALLOW_NETWORKS" in cause_words(caught.value.cause_code)


def test_the_name_is_checked_by_the_address_it_resolves_to(base: str) -> None:
    port = base.rsplit(":", 1)[1]
    with Fetcher(timeout=2) as fetcher, pytest.raises(AddressRefused, match=r"127\.0\.0\.1"):
        fetcher.fetch(f"http://localhost:{port}/feed")


def test_a_redirect_to_a_private_address_is_refused(base: str) -> None:
    with Fetcher(timeout=2, allow=ONLY_127_0_0_1) as fetcher:
        assert fetcher.fetch(f"{base}/to/{base}/feed").body == FEED  # an allowed hop
        port = base.rsplit(":", 1)[1]
        for target in ("http://169.254.169.254/latest/meta-data/", f"http://127.0.0.2:{port}/"):
            with pytest.raises(AddressRefused, match="is a private address"):
                fetcher.fetch(f"{base}/to/{target}")


def test_a_redirect_off_the_site_is_refused_when_a_site_is_given(base: str) -> None:
    with Fetcher(timeout=2, allow=LOCAL) as fetcher:
        port = base.rsplit(":", 1)[1]
        with pytest.raises(AddressRefused, match="outside the site"):
            fetcher.fetch(f"{base}/to/http://localhost:{port}/feed", site="127.0.0.1")
        assert fetcher.fetch(f"{base}/to/{base}/feed", site="127.0.0.1").body == FEED


def test_discovery_drops_a_link_to_the_metadata_address(base: str) -> None:
    with Fetcher(timeout=2, allow=LOCAL) as fetcher:
        found = discover(f"{base}/page", fetcher, max_requests=3)
    assert all("169.254" not in f.url for f in found.feeds)


def test_the_registrable_domain_of_a_status_page() -> None:
    assert site_of("status.example.com") == "example.com"
    assert site_of("status.example.co.uk") == "example.co.uk"
    assert site_of("127.0.0.1") == "127.0.0.1"


@pytest.fixture
def trickler() -> Iterator[str]:
    """A server that sends its status line, then one header byte every 50 ms for 20 s."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed at the end of the test
                return
            threading.Thread(target=drip, args=(conn,), daemon=True).start()

    def drip(conn: socket.socket) -> None:
        try:
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            for _ in range(400):
                if stop.wait(0.05):
                    break
                conn.sendall(b"X")
        except OSError:
            pass
        finally:
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    stop.set()
    listener.close()


def test_a_server_trickling_its_headers_is_cut_at_the_total_deadline(trickler: str) -> None:
    started = time.monotonic()
    with (
        Fetcher(timeout=1, total_timeout=1.5, allow=LOCAL) as fetcher,
        pytest.raises(FetchError, match="timed out"),
    ):
        fetcher.fetch(trickler)
    assert time.monotonic() - started < 4


def test_a_probe_of_a_trickling_server_ends_at_its_timeout(trickler: str) -> None:
    started = time.monotonic()
    prober = Prober(LOCAL)
    try:
        result = prober.check(trickler, "GET", (200,), timeout=1.0)
    finally:
        prober.close()
    assert (result.ok, result.cause) == (False, "timeout")
    assert time.monotonic() - started < 3


def test_a_probe_of_a_private_address_is_refused(base: str) -> None:
    prober = Prober()
    try:
        result = prober.check(f"{base}/feed", "GET", (200,), timeout=2)
    finally:
        prober.close()
    assert not result.ok and result.cause is not None
    assert result.cause.startswith("refused: 127.0.0.1 is a private address")


def test_the_setting_takes_comma_separated_cidrs_and_names_a_bad_one() -> None:
    settings = Settings(_env_file=None, fetch_allow_networks="10.0.0.0/8, ::1/128")  # type: ignore[call-arg]
    assert [str(n) for n in settings.allowed_networks()] == ["10.0.0.0/8", "::1/128"]
    with pytest.raises(ValueError, match=r"'10\.0\.0\.300/8' is not a network in CIDR form"):
        Settings(_env_file=None, fetch_allow_networks="10.0.0.300/8")  # type: ignore[call-arg]


def test_the_name_is_resolved_once_and_the_checked_address_is_the_one_connected_to(
    base: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No DNS server can run here, so the resolver is replaced: a rebinding name answers
    # an allowed address to the first lookup and a metadata address to any later one.
    port = int(base.rsplit(":", 1)[1])
    real = socket.getaddrinfo
    answers: list[str] = []

    def rebinding(host: str, *args: object, **kwargs: object) -> list[tuple]:  # type: ignore[type-arg]
        if host != "rebind.example":
            return real(host, *args, **kwargs)  # type: ignore[arg-type]
        ip = "127.0.0.1" if not answers else "169.254.169.254"
        answers.append(ip)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with Fetcher(timeout=2, allow=ONLY_127_0_0_1) as fetcher:
        assert fetcher.fetch(f"http://rebind.example:{port}/feed").body == FEED
    assert answers == ["127.0.0.1"]  # checked once, and that address was dialled


@pytest.mark.parametrize(
    "wait", ["inf", "31536000", "nan", "Fri,%2031%20Dec%209999%2023:59:59%20GMT"]
)
def test_a_status_page_asking_to_wait_forever_is_held_fifteen_minutes_at_most(
    base: str, wait: str
) -> None:
    with Fetcher(timeout=2, allow=LOCAL) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(f"{base}/limited/{wait}")
    assert caught.value.http_status == 429
    # nan is unreadable: the default wait for a 429 without a usable hint applies.
    assert caught.value.retry_after == (60.0 if wait == "nan" else 900.0)

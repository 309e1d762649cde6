"""The fetcher against a real HTTP server on 127.0.0.1 (http.server in a thread)."""

from __future__ import annotations

import gzip
import hashlib
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from notifier.feeds import registry
from notifier.feeds.errors import (
    FetchError,
    HtmlPageError,
    ParseError,
    TooLargeError,
    cause_words,
    is_unreadable,
)
from notifier.feeds.fetch import USER_AGENT, Fetcher
from notifier.feeds.guard import GuardedTransport, tls_context
from tests.support.local import LOCAL
from tests.support.tls import self_signed_cert

FEED = b"<rss version='2.0'><channel><title>made here</title></channel></rss>"
# Made here: an old-style RSS server's feed, in Latin-1, with and without a declaration.
LATIN1_RSS = (
    "<rss version='2.0'><channel><title>Café status</title><item><title>Dégradé</title>"
    "<guid>i1</guid><pubDate>Mon, 10 Jun 2024 11:10:42 GMT</pubDate></item></channel></rss>"
)
DECLARED = "<?xml version='1.0' encoding='ISO-8859-1'?>" + LATIN1_RSS
BOMB = gzip.compress(b"\0" * 50_000_000, compresslevel=9)  # ~50 KB on the wire
SENT: dict[str, int] = {}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def send(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        route = getattr(self, "route_" + path.strip("/").replace("-", "_"), None)
        if route is None:
            self.send(404)
        else:
            route()

    def route_etag(self) -> None:
        if self.headers.get("If-None-Match") == '"v1"':
            self.send(304, ETag='"v1"')
        else:
            self.send(200, FEED, ETag='"v1"', Content_Type="application/rss+xml")

    def route_modified(self) -> None:
        stamp = "Mon, 10 Jun 2024 11:10:42 GMT"
        if self.headers.get("If-Modified-Since") == stamp:
            self.send(304)
        else:
            self.send(200, FEED, Last_Modified=stamp)

    def route_ua(self) -> None:
        self.send(200, self.headers.get("User-Agent", "").encode())

    def route_redirect(self) -> None:
        self.send(302, Location="/etag")

    def route_loop(self) -> None:
        self.send(302, Location="/loop")

    def route_error(self) -> None:
        self.send(503, b"down")

    def route_secret(self) -> None:
        self.send(403, b"no")

    def route_slow(self) -> None:
        time.sleep(1.5)
        self.send(200, FEED)

    def route_drip(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "100")
        self.end_headers()
        for _ in range(100):
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(0.05)

    def route_big(self) -> None:
        # 50 MB, streamed; count what we managed to send before the client hung up.
        self.send_response(200)
        self.send_header("Content-Length", str(50_000_000))
        self.end_headers()
        chunk, sent = b"a" * 65536, 0
        try:
            while sent < 50_000_000:
                self.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass
        SENT["big"] = sent

    def route_latin1(self) -> None:
        body = LATIN1_RSS.encode("latin-1")
        self.send(200, body, Content_Type="application/rss+xml; charset=ISO-8859-1")

    def route_latin1_declared(self) -> None:
        body = DECLARED.encode("latin-1")
        self.send(200, body, Content_Type="text/xml; charset=windows-1252")

    def route_mislabelled(self) -> None:  # UTF-8 bytes under an old Apache default label
        self.send(200, LATIN1_RSS.encode(), Content_Type="text/xml; charset=ISO-8859-1")

    def route_unknown_charset(self) -> None:
        self.send(200, LATIN1_RSS.encode("latin-1"), Content_Type="text/xml; charset=x-made-up")

    def route_bomb(self) -> None:
        self.send(200, BOMB, Content_Encoding="gzip")

    def route_gzipped(self) -> None:
        self.send(200, gzip.compress(FEED), Content_Encoding="gzip", ETag='"g"')


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    f = Fetcher(timeout=0.5, connect_timeout=0.5, max_bytes=5_000_000, allow=LOCAL)
    yield f
    f.close()


def test_it_returns_the_body_its_hash_and_validators(fetcher: Fetcher, base_url: str) -> None:
    result = fetcher.fetch(f"{base_url}/etag", None, None)
    assert (result.status, result.body, result.etag) == (200, FEED, '"v1"')
    assert result.body_hash == hashlib.sha256(FEED).hexdigest()


def test_an_unchanged_etag_gives_304_without_a_body(fetcher: Fetcher, base_url: str) -> None:
    result = fetcher.fetch(f"{base_url}/etag", '"v1"', None)
    assert (result.status, result.body, result.etag, result.body_hash) == (304, None, '"v1"', None)


def test_last_modified_is_sent_back_and_kept_on_304(fetcher: Fetcher, base_url: str) -> None:
    first = fetcher.fetch(f"{base_url}/modified", None, None)
    assert first.last_modified == "Mon, 10 Jun 2024 11:10:42 GMT"
    second = fetcher.fetch(f"{base_url}/modified", None, first.last_modified)
    assert (second.status, second.last_modified) == (304, first.last_modified)


def test_it_names_itself(fetcher: Fetcher, base_url: str) -> None:
    body = fetcher.fetch(f"{base_url}/ua", None, None).body
    assert body == USER_AGENT.encode() and body.startswith(b"notifier/")


def test_it_follows_redirects_but_not_forever(fetcher: Fetcher, base_url: str) -> None:
    assert fetcher.fetch(f"{base_url}/redirect", None, None).body == FEED
    with pytest.raises(FetchError, match="redirects"):
        fetcher.fetch(f"{base_url}/loop", None, None)


def test_http_errors_name_status_and_host_but_never_the_query(
    fetcher: Fetcher, base_url: str
) -> None:
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(f"{base_url}/error", None, None)
    assert str(caught.value) == "HTTP 503 from 127.0.0.1/error"
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(f"{base_url}/secret?token=hunter2", None, None)
    assert "hunter2" not in str(caught.value) and "403" in str(caught.value)


def test_a_slow_server_times_out(fetcher: Fetcher, base_url: str) -> None:
    with pytest.raises(FetchError, match="timed out"):
        fetcher.fetch(f"{base_url}/slow", None, None)


def test_a_dripping_server_hits_the_total_deadline(base_url: str) -> None:
    with (
        Fetcher(timeout=1, total_timeout=0.5, allow=LOCAL) as fetcher,
        pytest.raises(FetchError, match="timed out"),
    ):
        fetcher.fetch(f"{base_url}/drip", None, None)


def test_a_closed_port_is_a_fetch_error(fetcher: Fetcher) -> None:
    with pytest.raises(FetchError) as caught:
        fetcher.fetch("http://127.0.0.1:9/feed?key=s3cret", None, None)
    assert "127.0.0.1/feed" in str(caught.value) and "s3cret" not in str(caught.value)


def test_a_50_mb_body_stops_at_the_cap(fetcher: Fetcher, base_url: str) -> None:
    started = time.monotonic()
    with pytest.raises(TooLargeError):
        fetcher.fetch(f"{base_url}/big", None, None)
    assert time.monotonic() - started < 5
    deadline = time.monotonic() + 5
    while "big" not in SENT and time.monotonic() < deadline:
        time.sleep(0.05)
    assert SENT["big"] < 20_000_000  # we hung up long before the server was done


def test_a_gzip_bomb_stops_at_the_cap_of_decompressed_bytes(
    fetcher: Fetcher, base_url: str
) -> None:
    with pytest.raises(TooLargeError, match="5000000"):
        fetcher.fetch(f"{base_url}/bomb", None, None)


def test_gzip_bodies_are_returned_decompressed(fetcher: Fetcher, base_url: str) -> None:
    result = fetcher.fetch(f"{base_url}/gzipped", None, None)
    assert result.body == FEED and result.body_hash == hashlib.sha256(FEED).hexdigest()


@pytest.mark.parametrize("route", ["latin1", "latin1-declared", "mislabelled"])
def test_a_feed_in_the_charset_its_header_names_reads_correctly(
    fetcher: Fetcher, base_url: str, route: str
) -> None:
    body = fetcher.fetch(f"{base_url}/{route}", None, None).body
    assert body is not None
    (incident,) = registry.parse(body, "rss", "acme").incidents
    assert incident.title == "Dégradé"


def test_a_charset_nobody_knows_leaves_the_bytes_for_the_parser_to_refuse(
    fetcher: Fetcher, base_url: str
) -> None:
    body = fetcher.fetch(f"{base_url}/unknown-charset", None, None).body
    assert body == LATIN1_RSS.encode("latin-1")
    with pytest.raises(ParseError):
        registry.parse(body, "rss", "acme")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("url", "cause"),
    [
        ("http://127.0.0.1:{closed}/feed", "refused"),
        ("http://status.notifier-test.invalid/feed", "dns"),
        ("{base}/slow", "timeout"),
        ("{base}/error", "http:503"),
        ("{base}/secret", "http:403"),
        ("{base}/loop", "redirects"),
    ],
)
def test_each_failure_says_its_cause(fetcher: Fetcher, base_url: str, url: str, cause: str) -> None:
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url.format(base=base_url, closed=_closed_port()), None, None)
    assert caught.value.cause_code == cause
    assert not is_unreadable(cause)


def test_a_certificate_nobody_trusts_is_a_tls_error(tmp_path: Path) -> None:
    pair = self_signed_cert(tmp_path)
    if pair is None:
        pytest.skip("no openssl CLI to make a certificate")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*pair)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with (
            Fetcher(timeout=2, connect_timeout=2, allow=LOCAL) as fetcher,
            pytest.raises(FetchError) as caught,
        ):
            fetcher.fetch(f"https://127.0.0.1:{server.server_address[1]}/etag", None, None)
    finally:
        server.shutdown()
        server.server_close()
    assert caught.value.cause_code == "tls"
    assert cause_words("tls").startswith("TLS error")


def test_every_feed_and_probe_client_of_a_process_verifies_with_one_tls_context() -> None:
    # Loading the CA bundle costs ~20 ms of CPU a context; a Runtime made two per process.
    feeds, probes = GuardedTransport(LOCAL), GuardedTransport()
    shared = tls_context()
    assert feeds._pool._ssl_context is probes._pool._ssl_context is shared
    assert shared.verify_mode == ssl.CERT_REQUIRED and shared.check_hostname


def test_a_body_over_the_cap_is_unreadable_not_unreachable(fetcher: Fetcher, base_url: str) -> None:
    with pytest.raises(TooLargeError) as caught:
        fetcher.fetch(f"{base_url}/bomb", None, None)
    assert is_unreadable(caught.value.cause_code)


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><head><title>Status</title></head></html>",
        b"\n  <!-- login wall -->\n<HTML lang='en'><body>Sign in</body></HTML>",
        b"<?xml version='1.0'?>\n<html xmlns='http://www.w3.org/1999/xhtml'></html>",
    ],
)
def test_a_web_page_where_a_feed_should_be_is_named_as_such(body: bytes) -> None:
    for format_name in ("auto", "rss", "statuspage-json", "statuspage-atom"):
        with pytest.raises(HtmlPageError) as caught:
            registry.parse(body, format_name, "acme")
        assert str(caught.value) == "answered with an HTML page, not a feed"
        assert caught.value.cause_code == "html" and is_unreadable("html")


def test_http_statuses_read_as_plain_words() -> None:
    assert cause_words("http:404") == "HTTP status 404: not found: check the feed URL"
    assert cause_words("http:502") == "HTTP status 502: the server has a problem"
    assert cause_words("http:418") == "HTTP status 418"
    assert cause_words("no-such-code") == "failed"

"""A request that got no answer is reported with its cause as the network stack gave it,
one line, scrubbed of secrets: never only the exception's type."""

from __future__ import annotations

import socket
import ssl
from urllib.error import URLError

from notifier.channels.base import cause_of, connection_failed


def test_the_cause_inside_a_urlerror_is_named() -> None:
    refused = URLError(ConnectionRefusedError(111, "Connection refused"))
    assert cause_of(refused) == "Connection refused [Errno 111]"
    dns = URLError(socket.gaierror(-2, "Name or service not known"))
    assert cause_of(dns) == "Name or service not known [Errno -2]"


def test_a_tls_failure_keeps_its_words() -> None:
    bad = URLError(ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] expired"))
    assert "CERTIFICATE_VERIFY_FAILED" in cause_of(bad)


def test_an_error_without_words_falls_back_on_its_cause_or_type() -> None:
    try:
        try:
            raise TimeoutError("read timed out")
        except TimeoutError as inner:
            raise ConnectionError() from inner
    except ConnectionError as outer:
        assert cause_of(outer) == "read timed out"
    assert cause_of(ConnectionResetError()) == "ConnectionResetError"


def test_the_error_is_transient_one_line_and_scrubbed() -> None:
    secret = "https://hooks.example/T0/B0/very-secret-token"
    exc = URLError(f"cannot open\n{secret}")
    error = connection_failed("slack webhook", exc, [secret], unknown=True)
    assert error.message == "slack webhook: connection failed: cannot open ********** (URLError)"
    assert not error.permanent and error.unknown

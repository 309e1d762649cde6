"""Only our own Host (the rebinding defence), and failed credentials limited per
client: the pure parts, with the clock injected. Through the served process:
tests/acceptance."""

from __future__ import annotations

import pytest

from notifier.web.serving.hosts import known_hosts, requested_host
from notifier.web.serving.strikes import Strikes


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("127.0.0.1:8080", "127.0.0.1"),
        ("LocalHost", "localhost"),
        ("[::1]:8080", "::1"),
        ("notifier.example.com.", "notifier.example.com"),  # the root dot names the same host
        ("::1", ""),  # an IPv6 address must be bracketed
        ("[::1", ""),
        ("", ""),
    ],
)
def test_the_host_header_reads_as_a_bare_lowercase_name(header: str, name: str) -> None:
    assert requested_host(header) == name


def test_the_known_names_are_loopback_the_bind_address_and_the_public_host() -> None:
    assert known_hosts("0.0.0.0", None) == {"localhost", "127.0.0.1", "::1"}
    assert known_hosts("10.0.0.5", "https://Notifier.Example.com:8443/base") == {
        "localhost", "127.0.0.1", "::1", "10.0.0.5", "notifier.example.com",
    }  # fmt: skip
    assert known_hosts("[::]", "not a url") == {"localhost", "127.0.0.1", "::1"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_may_fail_ten_times_then_waits_for_a_strike_to_refill() -> None:
    clock = Clock()
    strikes = Strikes(burst=10, refill_s=6.0, clock=clock)
    for _ in range(10):
        assert strikes.wait("10.0.0.1") == 0
        strikes.strike("10.0.0.1")
    assert strikes.wait("10.0.0.1") == pytest.approx(6.0)
    assert strikes.wait("10.0.0.2") == 0  # another client is not slowed
    clock.now += 3
    assert strikes.wait("10.0.0.1") == pytest.approx(3.0)
    clock.now += 3
    assert strikes.wait("10.0.0.1") == 0  # one more try
    strikes.strike("10.0.0.1")
    assert strikes.wait("10.0.0.1") == pytest.approx(6.0)
    clock.now += 3600
    assert strikes.wait("10.0.0.1") == 0  # refilled, never above the burst
    for _ in range(10):
        strikes.strike("10.0.0.1")
    assert strikes.wait("10.0.0.1") > 0


def test_the_public_url_is_read_under_its_new_and_its_older_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from notifier.config.settings import Settings

    monkeypatch.setenv("NOTIFIER_PUBLIC_URL", "https://old.example.com")
    assert Settings(_env_file=None).web_public_url == "https://old.example.com"  # type: ignore[call-arg]
    monkeypatch.setenv("NOTIFIER_WEB_PUBLIC_URL", "https://new.example.com")
    assert Settings(_env_file=None).web_public_url == "https://new.example.com"  # type: ignore[call-arg]

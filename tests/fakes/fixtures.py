"""Pytest fixtures for the vendor fakes. Register with
`pytest_plugins = ["tests.fakes.fixtures"]` in conftest, or import them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.slack_api import FakeSlack
from tests.fakes.smtp import FakeSmtp
from tests.fakes.twilio_api import FakeTwilio


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    slack = FakeSlack()
    slack.start()
    try:
        yield slack
    finally:
        slack.stop()


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    twilio = FakeTwilio()
    twilio.start()
    try:
        yield twilio
    finally:
        twilio.stop()


@pytest.fixture
def fake_smtp() -> Iterator[FakeSmtp]:
    server = FakeSmtp().start()
    try:
        yield server
    finally:
        server.stop()

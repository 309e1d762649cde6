"""A served web console over the 26 Dec reconstruction, for the console's HTTP and
browser tests: the example is played into a real Redis (`tests.support.dec26`), with
one change: Cloudflare's incident title is hostile markup, so every page that shows it
(and the OpenAI alerts that call it coincident) must render it as text."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import redis

from notifier.config.schema import Config
from notifier.pipeline.runtime.health import Limits
from notifier.web.app import create_app
from notifier.web.serving.serve import WebThread, bind
from notifier.web.wiring import WebWiring
from tests.fakes.slack_api import FakeSlack
from tests.fakes.smtp import FakeSmtp
from tests.fakes.twilio_api import FakeTwilio
from tests.support.dec26 import EXAMPLE, load_dec26

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)> Latency"
CLOCK = datetime(2024, 12, 27, 2, tzinfo=UTC)  # after the evening's last capture
LIMITS = Limits(tick_s=5.0, due_max_age_s=120.0)


@dataclass
class Console:
    url: str
    client: redis.Redis
    prefix: str
    config: Config
    slack: FakeSlack
    twilio: FakeTwilio


def hostile_copy(tmp: Path) -> Path:
    example = tmp / "dec26"
    shutil.copytree(EXAMPLE, example)
    for path in (example / "cloudflare").iterdir():
        text = path.read_text().replace(
            "Increased latency for some users in Europe (illustrative)",
            HOSTILE.replace('"', '\\"'),
        )
        path.write_text(text)
    return example


@contextmanager
def dec26_console(tmp: Path, redis_url: str) -> Iterator[Console]:
    prefix = f"notifier-test:{uuid.uuid4().hex[:12]}"
    slack, twilio, smtp = FakeSlack(), FakeTwilio(), FakeSmtp()
    slack.start()
    twilio.start()
    smtp.start()
    client = redis.Redis.from_url(redis_url)
    try:
        config = load_dec26(tmp, redis_url, prefix, slack, twilio, smtp, hostile_copy(tmp))
        ctx = WebWiring(client, prefix, f"{prefix}:celery:", LIMITS, config=config,
                         clock=lambda: CLOCK)  # fmt: skip
        web = WebThread(create_app(ctx), bind("127.0.0.1", 0)).start()
        try:
            yield Console(web.url, client, prefix, config, slack, twilio)
        finally:
            web.stop()
    finally:
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            client.delete(key)
        client.close()
        slack.stop()
        twilio.stop()
        smtp.stop()

"""The on-call's day against a real `notifier run` (supervisor, beat, worker), a local
Statuspage feed and the real slack-sdk posting to a local fake Slack:
a silence added from the CLI mutes at once, and SIGHUP reloads the subscription file
(a broken file keeps the old config and says why; a good one reaches new subscribers).

One service for the module: starting one costs seconds of CPU. Its tests do not meet:
the silence mutes component API, and the reload test's incidents are on Storage."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from notifier.store.delivery.deliverylog import DeliveryLog
from notifier.store.delivery.status import AlertStatus
from tests.fakes.slack_api import FakeSlack
from tests.support.cli import run_notifier
from tests.support.feed_server import FeedServer
from tests.support.local import ALLOW_ENV
from tests.support.statuspage_docs import FakeIncident, summary_json

# One worker runs this module's tests, in order, on the one service they share.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-oncall-day")]
ROOT = Path(__file__).resolve().parents[2]
FEED = "/api/v2/summary.json"


def config_text(feed_url: str, channels: list[str]) -> str:
    subscribers = "".join(f"  - name: team-{c}\n    slack: {{channel: '#{c}'}}\n" for c in channels)
    return (
        "providers:\n"
        f"  - {{id: acme, name: Acme Cloud, poll_interval: 1,\n"
        f"     feed: {{url: '{feed_url}', format: statuspage-json}}}}\n"
        f"subscribers:\n{subscribers}"
    )


@dataclass
class Service:
    proc: subprocess.Popen[bytes]
    env: dict[str, str]
    config: Path
    stderr: Path
    feeds: FeedServer
    slack: FakeSlack
    client: redis.Redis
    prefix: str

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_notifier(args, env=self.env)

    def wait(self, condition: Callable[[], bool], what: str, timeout: float = 45) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            assert self.proc.poll() is None, self.stderr.read_text()[-5000:]
            time.sleep(0.2)
        pytest.fail(f"timed out waiting for {what}\n{self.stderr.read_text()[-8000:]}")

    def posts_to(self, channel: str) -> list[str]:
        """What was posted to `#channel` (the fake names channels by a hash of the name)."""
        wanted = self.slack._channel_id(channel)
        return [str(m["body"]) for m in self.slack.messages
                if m["method"] == "chat.postMessage" and m["channel"] == wanted]  # fmt: skip

    def incident(self, *incidents: FakeIncident) -> None:
        self.feeds.put(FEED, summary_json(list(incidents)))


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Service]:
    tmp_path = tmp_path_factory.mktemp("oncall-day")
    key_prefix = f"notifier-test:{uuid.uuid4().hex[:12]}"
    redis_client = redis.Redis.from_url(redis_url)
    feeds, slack = FeedServer().start(), FakeSlack().start()
    feeds.put(FEED, summary_json([]))
    config = tmp_path / "subscriptions.yaml"
    config.write_text(config_text(feeds.url(FEED), ["a"]))
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")} | ALLOW_ENV
    env |= {"NOTIFIER_REDIS_URL": redis_url, "NOTIFIER_KEY_PREFIX": key_prefix,
            "NOTIFIER_CONFIG": str(config), "NOTIFIER_DATA_DIR": str(tmp_path / "data"),
            "NOTIFIER_SLACK_TOKEN": "xoxb-e2e-not-a-real-token",
            "NOTIFIER_SLACK_API_URL": slack.url, "NOTIFIER_WEB_PORT": "0"}  # fmt: skip
    stderr = tmp_path / "stderr"
    with stderr.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "notifier", "run", "--concurrency", "1"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
        )  # fmt: skip
    svc = Service(proc, env, config, stderr, feeds, slack, redis_client, key_prefix)
    try:
        svc.wait(lambda: "first poll of each provider" in stderr.read_text(), "the first poll")
        yield svc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        slack.stop()
        feeds.stop()
        for key in redis_client.scan_iter(match=f"{key_prefix}*", count=1000):
            redis_client.delete(key)
        redis_client.close()


def _incident(iid: str, title: str, component: str) -> FakeIncident:
    inc = FakeIncident(iid, title, components=[component])
    inc.add("investigating", "2024-12-26T19:00:00.000Z", "Looking into it.")
    return inc


def test_a_silence_added_from_the_cli_mutes_the_running_service_at_once(
    service: Service,
) -> None:
    noisy = _incident("inc-api", "API errors", "API")
    service.incident(noisy)
    service.wait(lambda: any("API errors" in p for p in service.posts_to("a")), "the opening")
    added = service.cli("silence", "add", "provider=acme", "component=API", "--for", "1h",
                        "--reason", "known, INC-42")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "(up to major)" in added.stderr  # made for the incident open now
    silence_id = added.stdout.strip()
    noisy.add("identified", "2024-12-26T19:20:00.000Z", "Fifth time today: still errors.")
    service.incident(noisy, _incident("inc-web", "Web down", "Web"))
    service.wait(lambda: any("Web down" in p for p in service.posts_to("a")), "the unmuted post")
    log = DeliveryLog(service.client, service.prefix)
    muted = AlertStatus.SILENCED
    service.wait(lambda: any(r.outcome is muted for r in log.recent()), "the muted alert")
    [record] = [r for r in log.recent() if r.outcome is AlertStatus.SILENCED]
    assert (record.incident_id, record.message_id) == ("inc-api", f"silence:{silence_id}")
    assert not any("Fifth time today" in p for p in service.posts_to("a"))
    shown = service.cli("deliveries").stdout
    assert "silenced" in shown and f"silence:{silence_id}" in shown
    status = service.cli("status").stdout
    assert f"{silence_id}  provider=acme component=API" in status and "(1 muted lately)" in status


def test_sighup_keeps_the_old_config_on_a_broken_file_and_applies_a_good_one(
    service: Service,
) -> None:
    good = service.config.read_text()
    service.config.write_text(good + "  - name: team-b\n    slack: {chanel: '#b'}\n")
    os.kill(service.proc.pid, signal.SIGHUP)
    service.wait(lambda: "config reload failed" in service.stderr.read_text(), "the refusal")
    assert "subscriptions.yaml:8: subscribers[1].slack.chanel: unknown key" in (
        service.stderr.read_text()
    )
    status = service.cli("status")
    assert "FAILED, the config above stays" in status.stdout
    assert "subscribers[1].slack.chanel: unknown key" in status.stdout
    service.incident(_incident("inc-1", "First outage", "Storage"))
    service.wait(lambda: any("First outage" in p for p in service.posts_to("a")), "old config")

    service.config.write_text(config_text(service.feeds.url(FEED), ["a", "b"]))
    os.kill(service.proc.pid, signal.SIGHUP)
    service.wait(lambda: "config reload: " in service.stderr.read_text(), "the reload")
    # Each process loads the new file at its next task (the beat, the worker's and the
    # page worker's pool processes): then the next incident is routed by it.
    service.wait(lambda: service.stderr.read_text().count("config reloaded from") >= 3,
                 "every process on the new config")  # fmt: skip
    service.incident(_incident("inc-1", "First outage", "Storage"),
                     _incident("inc-2", "Second outage", "Storage"))  # fmt: skip
    service.wait(lambda: any("Second outage" in p for p in service.posts_to("b")), "team b")
    assert any("Second outage" in p for p in service.posts_to("a"))
    status = service.cli("status").stdout
    assert "; last reload " in status and ": ok" in status
    metrics = service.client.hget(f"{service.prefix}:config", "reload_ok")
    assert metrics == b"1"

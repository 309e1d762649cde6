"""The `feeds` health check: a service blind to its providers is not healthy (issue 31).

Polls run through the real poll stage with the real fetcher against a port nothing
listens on, so each failure is recorded exactly as in the service; the clock is
injected. `/healthz` is asked over real HTTP.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import redis

from notifier.feeds.fetch import Fetcher
from notifier.feeds.states import FeedState, feed_state
from notifier.models import ChangeEvent
from notifier.pipeline.ingest.poll import poll_provider
from notifier.pipeline.runtime.blindness import Watched, blind_feeds, describe
from notifier.pipeline.runtime.health import Limits, observe
from notifier.store.feeds.providers import ProviderStore
from notifier.store.ops.heartbeats import Heartbeats
from notifier.web.app import create_app
from notifier.web.serving.serve import WebThread, bind
from notifier.web.wiring import WebWiring
from tests.fakes.smtp import free_port

T0 = datetime(2025, 3, 1, 12, tzinfo=UTC)
LIMITS = Limits(tick_s=5.0, due_max_age_s=120.0)
WATCHED = (Watched("acme", 60), Watched("globex", 60), Watched("initech", 60))


@dataclass(frozen=True)
class Provider:
    id: str
    url: str
    format: str = "statuspage-json"


def _drop(_: Sequence[ChangeEvent]) -> None:
    pass


def _ago(seconds: float, now: datetime = T0) -> str:
    return (now - timedelta(seconds=seconds)).isoformat()


def test_a_provider_is_blind_after_three_intervals_without_a_good_poll() -> None:
    raw = {
        "acme": {
            "polled_at": _ago(1),
            "ok_at": _ago(181),
            "failures": "3",
            "unreachable": "1",
            "cause": "dns",
        },
        "globex": {"polled_at": _ago(1), "ok_at": _ago(179), "failures": "2"},  # not yet
        "initech": {},  # never polled: unknown, not counted blind
    }
    blind = blind_feeds(raw, WATCHED, T0)
    assert [(b.provider, b.state) for b in blind] == [("acme", FeedState.UNREACHABLE)]
    assert describe(blind, 3, 0.5)[0] is True  # one of three is not more than half
    ok, detail = describe(blind, 1, 0.5)
    assert not ok and "acme (unreachable, 181 s)" in detail


def test_a_feed_that_never_answered_counts_from_its_first_failure() -> None:
    raw = {"acme": {"polled_at": _ago(1), "since": _ago(200), "failures": "4"}}
    assert [b.provider for b in blind_feeds(raw, WATCHED[:1], T0)] == ["acme"]
    assert feed_state(raw["acme"]) is FeedState.FAILING
    assert feed_state({}) is FeedState.UNKNOWN


def _unreachable_polls(store: ProviderStore, until: datetime) -> None:
    url = f"http://127.0.0.1:{free_port()}/api/v2/summary.json"  # nothing listens
    fetcher = Fetcher(timeout=2, connect_timeout=1)
    at = T0
    while at <= until:
        for w in WATCHED:
            poll_provider(Provider(w.provider, url), store, fetcher, _drop, at)
        at += timedelta(seconds=60)


def test_every_feed_unreachable_for_three_intervals_fails_health(
    redis_client: redis.Redis, key_prefix: str
) -> None:
    store = ProviderStore(redis_client, key_prefix)
    _unreachable_polls(store, T0 + timedelta(seconds=240))
    beats = Heartbeats(redis_client, key_prefix)
    now = T0 + timedelta(seconds=240)
    beats.beat(now)
    beats.worker("celery@here", now, expire_after=15)
    early = observe(redis_client, key_prefix, LIMITS, T0 + timedelta(seconds=120), WATCHED)
    assert early.healthy  # two intervals: not yet
    health = observe(redis_client, key_prefix, LIMITS, now, WATCHED)
    assert [c.name for c in health.failing()] == ["feeds"]
    (feeds,) = [c for c in health.checks if c.name == "feeds"]
    assert "3 of 3 without a good poll for 3 intervals" in feeds.detail
    assert all(f"{w.provider} (unreachable" in feeds.detail for w in WATCHED)
    # with no providers watched there is no feeds check at all
    assert "feeds" not in [c.name for c in observe(redis_client, key_prefix, LIMITS, now).checks]


@pytest.fixture
def served(redis_client: redis.Redis, key_prefix: str) -> tuple[str, WebThread]:
    from notifier.config.load import parse_config

    text = "providers:\n" + "".join(
        f"  - id: {w.provider}\n    name: {w.provider}\n    feed: "
        f'{{url: "https://{w.provider}.example/api/v2/summary.json", format: statuspage-json}}\n'
        for w in WATCHED
    )
    now = T0 + timedelta(seconds=240)
    ctx = WebWiring(redis_client, key_prefix, f"{key_prefix}:celery:", LIMITS,
                     clock=lambda: now, config=parse_config(text, "s.yaml"))  # fmt: skip
    web = WebThread(create_app(ctx), bind("127.0.0.1", 0)).start()
    return web.url, web


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_healthz_answers_503_naming_the_blind_feeds(
    redis_client: redis.Redis, key_prefix: str, served: tuple[str, WebThread]
) -> None:
    url, web = served
    try:
        store = ProviderStore(redis_client, key_prefix)
        _unreachable_polls(store, T0 + timedelta(seconds=240))
        beats = Heartbeats(redis_client, key_prefix)
        beats.beat(T0 + timedelta(seconds=240))
        beats.worker("celery@here", T0 + timedelta(seconds=240), expire_after=15)
        status, body = _get(url + "/healthz")
        assert status == 503
        assert '"name":"feeds","ok":false' in body.replace(" ", "")
        assert "acme (unreachable" in body and "initech (unreachable" in body
        status, page = _get(url + "/")
        assert 'class="state state-unreachable">unreachable</span>' in page
    finally:
        web.stop()

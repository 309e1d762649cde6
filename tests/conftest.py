"""Shared fixtures: a real Redis with a private key prefix, and the feed corpus."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from notifier.store.server import PrivateRedis, answers

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["tests.fakes.fixtures"]


def _corpus_dir() -> Path | None:
    env = os.environ.get("NOTIFIER_FEED_CORPUS")
    candidates = [Path(env)] if env else []
    candidates.append(ROOT.parent / "shared" / "feeds")
    for c in candidates:
        if c.is_dir():
            return c
    return None


CORPUS = _corpus_dir()


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The real status-feed documents (never copied into the project)."""
    if CORPUS is None:
        pytest.skip("feed corpus not found: set NOTIFIER_FEED_CORPUS or provide ../shared/feeds")
    return CORPUS


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """NOTIFIER_TEST_REDIS_URL, else 127.0.0.1:6379 if it answers, else a private server."""
    url = os.environ.get("NOTIFIER_TEST_REDIS_URL")
    if url:
        yield url
        return
    if answers("redis://127.0.0.1:6379/0"):
        yield "redis://127.0.0.1:6379/0"
        return
    server = PrivateRedis(tmp_path_factory.mktemp("redis")).start(persist=False)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def key_prefix() -> str:
    """A prefix no other test (or process) uses; every key a test makes starts with it."""
    return f"notifier-test:{uuid.uuid4().hex[:12]}"


@pytest.fixture
def redis_client(redis_url: str, key_prefix: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        for key in client.scan_iter(match=f"{key_prefix}*", count=1000):
            client.delete(key)
        client.close()

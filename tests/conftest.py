"""Shared fixtures: the session's own Redis with a private key prefix, and the feed corpus.

Under pytest-xdist each worker is a session of its own: its own Redis, its own data
directory, its own free ports. Nothing here is shared between workers."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from _pytest.nodeid import NodeId

from tests.support.own_redis import own_redis

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["tests.fakes.fixtures", "tests.support.budget"]

# The suite's own switches; every other NOTIFIER_* variable of the developer's shell is
# dropped before any test runs. Settings() reads the environment, and so does every child
# process that inherits it: a NOTIFIER_REDIS_URL or NOTIFIER_SLACK_TOKEN meant for the
# developer's own service must never reach the code under test.
TEST_SWITCHES = frozenset(
    {
        "NOTIFIER_TEST_REDIS_URL",
        "NOTIFIER_TEST_DATABASE_URL",
        "NOTIFIER_FEED_CORPUS",
        "NOTIFIER_TEST_CHROMIUM",
        "NOTIFIER_TEST_DOCS_SCREENSHOT",
        "NOTIFIER_FUZZ_EXAMPLES",
    }
)
for _name in [n for n in os.environ if n.startswith("NOTIFIER_") and n not in TEST_SWITCHES]:
    del os.environ[_name]
# Not the checkout's `.notifier/` (shared by every worker, and the developer's own): a
# directory of this process's, removed at exit. A test that needs its own sets its own.
SERVICE_TIMEOUT_S = 120
_DATA_DIR = tempfile.mkdtemp(prefix="notifier-data-")
os.environ["NOTIFIER_DATA_DIR"] = _DATA_DIR


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_DATA_DIR, ignore_errors=True)


# The processes the tests start take Ctrl-C as at a terminal. A shell that runs the suite
# in the background (`make test &`, a CI script's job) starts it with SIGINT ignored, and
# an ignored signal stays ignored across exec: `notifier web` (which stops on Python's
# KeyboardInterrupt) then shrugged off a test's SIGINT and was killed 30 s later. A
# handler is reset to the default at exec, so the children get Python's own again.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

WORKERS_PER_CORE = 2


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: two workers per core, not one. Most of the suite's wall time is waiting
    (for a served process to start, a killed worker's lease to lapse, a Redis stall to
    end), not CPU: a second worker per core runs its tests in that time. More than two
    only adds start-up CPU (each worker its own Redis and imports) for little overlap.
    PYTEST_XDIST_AUTO_NUM_WORKERS, or `-n N`, still decides when given."""
    given = os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS")
    if given:
        return int(given)
    return WORKERS_PER_CORE * len(os.sched_getaffinity(0))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked whole_machine (a load measurement) share one xdist group: one worker
    runs them, one after another, never two at once. And a module marked xdist_group
    (its tests share a module-scoped service) stays on one worker, in order.

    pytest-xdist's `--dist loadgroup` tells the controller a test's group by a suffix
    `@group` on its node id, which it sets through `item._nodeid`; pytest 9 keeps the
    id in `item._id` instead, so that suffix never arrives and groups were split. Set
    here, where it is read, unless xdist managed it."""
    for item in items:
        if item.get_closest_marker("whole_machine"):
            item.add_marker(pytest.mark.xdist_group("whole_machine"))
        # A hang fails after 60 s (pyproject.toml). A test that starts real services
        # (Celery worker, beat, supervisor) spends most of that starting processes, which a
        # busy machine slows several times over: it gets SERVICE_TIMEOUT_S.
        real = item.get_closest_marker("e2e") or item.get_closest_marker("chaos")
        if real and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SERVICE_TIMEOUT_S))
    _long_modules_first(items)
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        groups = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                         for m in item.iter_markers("xdist_group")})  # fmt: skip
        if groups and "@" not in item.nodeid:
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")


def _long_modules_first(items: list[pytest.Item]) -> None:
    """Modules that run real services (marked e2e or chaos) first, each module's tests kept
    together and in order. xdist hands out work in this order, and such a module (often
    one xdist group, its tests one after another on one worker) takes the longest: started
    last, it ran on alone while the other workers had finished, the suite's wall time
    longer than its CPU needed."""

    def module(item: pytest.Item) -> str:
        return item.nodeid.split("::", 1)[0]

    served = {module(i) for i in items
              if i.get_closest_marker("e2e") or i.get_closest_marker("chaos")}  # fmt: skip
    items.sort(key=lambda i: module(i) not in served)  # stable: the order within is kept


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
def redis_url() -> Iterator[str]:
    """NOTIFIER_TEST_REDIS_URL when set; else a redis-server started for this session alone."""
    with own_redis(["NOTIFIER_TEST_REDIS_URL"]) as url:
        yield url


# Every key under a prefix, deleted in one round trip. Each test removes its own keys,
# so the keyspace stays small; a client-side SCAN once walked it whole for every test,
# and the tests that left theirs (a 30,000-route plan's 20,000 keys) made each walk longer.
_DROP_PREFIX = """
local dropped = 0
for _, key in ipairs(redis.call('KEYS', ARGV[1])) do
  redis.call('UNLINK', key)
  dropped = dropped + 1
end
return dropped
"""


@pytest.fixture
def key_prefix(request: pytest.FixtureRequest) -> Iterator[str]:
    """A prefix no other test (or process) uses; every key a test makes starts with it.
    A test that also used the suite's Redis (`redis_url`) leaves none of them there."""
    prefix = f"notifier-test:{uuid.uuid4().hex[:12]}"
    yield prefix
    if "redis_url" not in request.fixturenames:
        return
    client = redis.Redis.from_url(request.getfixturevalue("redis_url"), socket_timeout=10)
    try:
        client.eval(_DROP_PREFIX, 0, f"{prefix}*")
    except redis.RedisError:
        pass  # a test that took this Redis away has nothing left in it to drop
    finally:
        client.close()


@pytest.fixture
def redis_client(redis_url: str, key_prefix: str) -> Iterator[redis.Redis]:
    """A client of the suite's Redis; `key_prefix` drops the test's keys afterwards."""
    client = redis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def local_fetches(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """NOTIFIER_FETCH_ALLOW_NETWORKS for loopback: the test's fake feed servers on
    127.0.0.1 are private addresses, which the fetch guard refuses otherwise."""
    from notifier.config.settings import get_settings
    from tests.support.local import LOCAL_CIDRS

    monkeypatch.setenv("NOTIFIER_FETCH_ALLOW_NETWORKS", LOCAL_CIDRS)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()

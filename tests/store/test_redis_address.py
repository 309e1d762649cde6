"""The Redis URL forms the service reads, and the same address for Celery and redbeat."""

from __future__ import annotations

import pytest

from notifier.store.conn.address import RedisUrlError, check, parse_sentinel
from notifier.store.conn.connect import celery_broker, redbeat_options
from notifier.store.conn.url import redacted

SENTINEL = "redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2:26380,sent3/notifier-primary/2"


def test_a_sentinel_url_names_its_sentinels_master_database_and_password() -> None:
    a = parse_sentinel(SENTINEL)
    assert a.sentinels == (("10.0.0.1", 26379), ("10.0.0.2", 26380), ("sent3", 26379))
    assert (a.master, a.db, a.password, a.sentinel_password) == (
        "notifier-primary",
        2,
        "s3cret",
        None,
    )
    assert "s3cret" not in repr(a) and "s3cret" not in a.describe()


def test_the_sentinels_own_password_and_tls_come_from_the_query() -> None:
    a = parse_sentinel("redis+sentinel://h1:26379/main?sentinel_password=x&ssl=true")
    assert (a.master, a.db, a.password, a.sentinel_password, a.ssl) == ("main", 0, None, "x", True)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("redis+sentinel://h1:26379", "<master name>"),  # no master name
        ("redis+sentinel://h1:26379/m/zero", "database"),
        ("redis+sentinel://h1:port/m/0", "port"),
        ("http://h1:6379", "must start with"),
        ("h1:6379", "must start with"),
    ],
)
def test_a_url_the_service_cannot_use_is_refused_with_the_form_it_wants(
    url: str, says: str
) -> None:
    with pytest.raises(RedisUrlError, match=says):
        check(url)


@pytest.mark.parametrize(
    "url", ["redis://h:6379/1", "rediss://:pw@h:6380/0", "unix:///tmp/r.sock", SENTINEL]
)
def test_every_supported_form_passes_the_check(url: str) -> None:
    check(url)


def test_celery_reaches_the_sentinel_group_with_its_master_name() -> None:
    broker, options = celery_broker(SENTINEL)
    assert broker == (
        "sentinel://:s3cret@10.0.0.1:26379/2;sentinel://:s3cret@10.0.0.2:26380/2;"
        "sentinel://:s3cret@sent3:26379/2"
    )
    assert options == {"master_name": "notifier-primary"}
    _, options = celery_broker(SENTINEL + "?sentinel_password=sp")
    assert options["sentinel_kwargs"] == {"password": "sp"}


def test_celery_reaches_one_server_at_the_same_address_in_kombus_spelling() -> None:
    assert celery_broker("unix:///tmp/x/redis.sock") == ("redis+socket:///tmp/x/redis.sock", {})
    assert celery_broker("rediss://:pw@h:6380/0") == ("rediss://:pw@h:6380/0", {})


def test_redbeat_gets_its_own_sentinel_options() -> None:
    conf = redbeat_options(SENTINEL, failover_wait=30)
    assert conf["redbeat_redis_url"].startswith("redis-sentinel://")
    opts = conf["redbeat_redis_options"]
    assert opts["sentinels"] == [("10.0.0.1", 26379), ("10.0.0.2", 26380), ("sent3", 26379)]
    assert (opts["service_name"], opts["db"], opts["password"], opts["retry_period"]) == (
        "notifier-primary", 2, "s3cret", 30,
    )  # fmt: skip


def test_logs_never_show_a_sentinel_url_password() -> None:
    assert "s3cret" not in redacted(SENTINEL)
    assert "sp" not in redacted("redis+sentinel://h:26379/m/0?sentinel_password=sp").split("?")[1]

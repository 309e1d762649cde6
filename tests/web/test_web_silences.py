"""The console's /silences over real HTTP: listed and managed behind the token, with
cross-site form posts refused, and what a silence muted shown next to it."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import redis
from pydantic import SecretStr

from notifier.store.delivery.alerts import AlertStore
from notifier.store.delivery.deliverylog import DeliveryLog
from notifier.store.delivery.status import AlertStatus
from notifier.store.ops.silences import SilenceStore, make
from notifier.web.wiring import WebWiring
from tests.fakes import sample
from tests.web.test_web import LIMITS, NOW, serve

TOKEN = "console-token-5f2a"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def call(url: str, form: dict[str, str] | None = None, token: str | None = TOKEN,
         origin: str | None = None) -> tuple[int, str]:  # fmt: skip
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if origin is not None:
        headers["Origin"] = origin
    data = urlencode(form).encode() if form is not None else None
    req = urllib.request.Request(url, data, headers, method="POST" if form is not None else "GET")
    try:
        with urllib.request.build_opener(_NoRedirect).open(req, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@pytest.fixture
def web(redis_client: redis.Redis, key_prefix: str) -> Iterator[str]:
    ctx = WebWiring(redis_client, key_prefix, f"{key_prefix}:celery:", LIMITS,
                     web_token=SecretStr(TOKEN), clock=lambda: NOW)  # fmt: skip
    yield from serve(ctx)


FORM = {"provider": "openai", "component": "ChatGPT", "for": "2h", "reason": "known, INC-42",
        "by": "ana"}  # fmt: skip


def test_a_silence_added_from_the_form_is_stored_and_listed(
    web: str, redis_client: redis.Redis, key_prefix: str
) -> None:
    status, _ = call(f"{web}/silences", FORM, origin=web)
    assert status == 303
    [silence] = SilenceStore(redis_client, key_prefix).all(NOW)
    assert (silence.provider, silence.component, silence.created_by) == ("openai", "ChatGPT", "ana")
    assert silence.ends_at == NOW + timedelta(hours=2)
    status, page = call(f"{web}/silences")
    assert status == 200
    assert silence.id in page and "provider=openai component=ChatGPT" in page
    assert "known, INC-42" in page and "active" in page


@pytest.fixture
def watching(redis_client: redis.Redis, key_prefix: str) -> Iterator[str]:
    from notifier.config.load import parse_config

    config = parse_config("providers:\n  - id: openai\n  - id: azure\n", "s.yaml")
    ctx = WebWiring(redis_client, key_prefix, f"{key_prefix}:celery:", LIMITS,
                     web_token=SecretStr(TOKEN), clock=lambda: NOW, config=config)  # fmt: skip
    yield from serve(ctx)


@pytest.mark.parametrize(
    ("provider", "said"),
    [("nosuch", "no provider &#39;nosuch&#39; in the subscription file"),
     ("opnai", "subscription file; did you mean &#39;openai&#39;?")],
)  # fmt: skip
def test_the_form_refuses_a_provider_the_file_does_not_watch_as_the_cli_does(
    watching: str, redis_client: redis.Redis, key_prefix: str, provider: str, said: str
) -> None:
    status, page = call(f"{watching}/silences", {**FORM, "provider": provider}, origin=watching)
    assert status == 400 and said in page
    assert SilenceStore(redis_client, key_prefix).all(NOW) == []  # nothing stored
    assert call(f"{watching}/silences", FORM, origin=watching)[0] == 303


def test_the_page_and_the_form_need_the_token(
    web: str, redis_client: redis.Redis, key_prefix: str
) -> None:
    assert call(f"{web}/silences", token=None)[0] == 401
    assert call(f"{web}/silences", FORM, token=None)[0] == 401
    assert call(f"{web}/silences", FORM, token="wrong")[0] == 401
    assert SilenceStore(redis_client, key_prefix).all(NOW) == []


@pytest.mark.parametrize("origin", ["https://evil.example", "null"])
def test_a_cross_site_post_is_refused_even_with_credentials(
    web: str, redis_client: redis.Redis, key_prefix: str, origin: str
) -> None:
    store = SilenceStore(redis_client, key_prefix)
    kept = store.add(make("openai", lasting=timedelta(hours=1), reason="r", by="a", now=NOW))
    assert call(f"{web}/silences", FORM, origin=origin)[0] == 403
    assert call(f"{web}/silences/{kept.id}/expire", {}, origin=origin)[0] == 403
    assert [s.id for s in store.all(NOW)] == [kept.id] and store.all(NOW)[0].active(NOW)


def test_expiring_from_the_console_ends_the_silence_and_shows_what_it_muted(
    web: str, redis_client: redis.Redis, key_prefix: str
) -> None:
    store = SilenceStore(redis_client, key_prefix)
    silence = store.add(make("openai", lasting=timedelta(hours=1), reason="r", by="a", now=NOW))
    alert = sample.alert()
    alerts = AlertStore(redis_client, key_prefix)
    alerts.claim(alert)
    DeliveryLog(redis_client, key_prefix).attempt(alert, 0, NOW)
    alerts.finish(alert.dedup_key, AlertStatus.SILENCED, NOW, message_id=f"silence:{silence.id}")
    page = call(f"{web}/silences")[1]
    assert f"silence:{silence.id}" in page and "Elevated errors on API" in page
    assert call(f"{web}/silences/{silence.id}/expire", {})[0] == 303
    found = store.get(silence.id)
    assert found is not None and not found.active(NOW) and found.expired_by == "web console"
    assert call(f"{web}/silences/nope/expire", {})[0] == 404


def test_a_bad_duration_is_shown_on_the_page_and_nothing_is_stored(
    web: str, redis_client: redis.Redis, key_prefix: str
) -> None:
    status, page = call(f"{web}/silences", {**FORM, "for": "soon"})
    assert status == 400 and "not a duration" in page
    assert SilenceStore(redis_client, key_prefix).all(NOW) == []

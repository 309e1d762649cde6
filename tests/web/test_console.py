"""The console's pages over real HTTP, on the 26 Dec reconstruction played into a real
Redis by the service's own stages: what each page says, that feed text stays text, that
every page carries the Content-Security-Policy, and that nothing but GET is served."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import redis
from pydantic import SecretStr

from notifier.web.app import create_app
from notifier.web.serving.serve import WebThread, bind
from notifier.web.wiring import WebWiring
from tests.support.console import LIMITS, Console, dec26_console

# One worker runs this module: its tests share one console with the example played in.
pytestmark = pytest.mark.xdist_group("web-console")
OPENAI_ID = "01JG25G8609QK3M7RT2XBV6DHN"
WINDOW = "from=2024-12-26T17:00:00Z&to=2024-12-27T02:00:00Z"


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Console]:
    with dec26_console(tmp_path_factory.mktemp("dec26"), redis_url) as served:
        yield served


def get(url: str, method: str = "GET") -> tuple[int, dict[str, str], str]:
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode()


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_now_shows_each_provider_with_its_state_and_open_incidents(console: Console) -> None:
    status, _, page = get(console.url + "/")
    assert status == 503  # no beat or worker runs here: the health checks say so
    words = text_of(page)
    assert "OpenAI operational" in words and "Microsoft Azure operational" in words
    # Cloudflare's illustrative incident is still listed as open at the last capture
    assert "Cloudflare minor" in words and "CDN/Cache" in words
    assert "notifier: UNHEALTHY" in words and "no beat has ever ticked" in words


def test_the_timeline_draws_azure_and_openai_joined_by_an_arrow(console: Console) -> None:
    status, _, page = get(f"{console.url}/timeline?{WINDOW}")
    assert status == 200
    assert 'data-incident="azure/DEMO-26DEC"' in page
    assert f'data-incident="openai/{OPENAI_ID}"' in page
    assert f'data-from="azure/DEMO-26DEC" data-to="openai/{OPENAI_ID}"' in page
    assert f'href="/incidents/openai/{OPENAI_ID}"' in page
    ticks = re.findall(r'class="tick"[^>]*data-channel="(\w+)"', page)
    # support-bot-team: 4 on Slack, 4 emails, the page and its all-clear; the on-call's
    # Azure page, its follow-up naming OpenAI, and its all-clear
    assert sorted(ticks) == sorted(["slack"] * 4 + ["email"] * 4 + ["sms"] * 5)
    assert "OpenAI — likely caused by Microsoft Azure" in text_of(page)


def test_the_incident_page_tells_each_update_and_every_delivery(console: Console) -> None:
    status, _, page = get(f"{console.url}/incidents/openai/{OPENAI_ID}")
    assert status == 200
    words = text_of(page)
    assert "OpenAI — likely caused by Microsoft Azure" in words
    assert words.count("investigating") >= 1 and "monitoring" in words and "resolved" in words
    assert "Possible upstream cause: Microsoft Azure" in words  # an annotation ...
    assert "openai depends on azure" in words.lower() or "catalog" in words.lower()  # ... why
    rows = re.findall(r'<tr class="delivery status-(\w+)" data-channel="(\w+)"', page)
    assert ("sent", "slack") in rows and ("sent", "sms") in rows and ("sent", "email") in rows
    assert len(rows) == 4 + 4 + 2 + 1  # the team's slack, email, sms; the on-call follow-up
    assert "not acknowledged" in words  # the page's acknowledgement state
    assert re.search(r"<code>SM[0-9a-f]+", page)  # Twilio's message id


def test_an_unknown_incident_is_404(console: Console) -> None:
    assert get(f"{console.url}/incidents/openai/nope")[0] == 404


def answers_in(page: str) -> list[tuple[str, str]]:
    table = page.split('id="dry-run"')[1].split("</table>")[0]
    return re.findall(r"<tr><td>([\w-]+)</td><td>(\w+)</td>", table)


def test_the_dry_run_says_who_would_hear_of_an_azure_outage(console: Console) -> None:
    query = "provider=azure&impact=major&regions=southcentralus"
    status, _, page = get(f"{console.url}/subscriptions?{query}")
    assert status == 200
    assert answers_in(page) == [("oncall", "sms")]  # support-bot-team hears only of OpenAI
    status, _, page = get(f"{console.url}/subscriptions?provider=openai&impact=minor")
    assert answers_in(page) == [("support-bot-team", "slack"), ("support-bot-team", "email")]


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("provider=nosuch&impact=major", "unknown provider &#39;nosuch&#39;: this file watches"),
        ("provider=opena&impact=major", "did you mean &#39;openai&#39;?"),
        ("provider=openai&impact=bogus", "unknown impact &#39;bogus&#39;: one of minor, major"),
        ("provider=openai&impact=majr", "did you mean &#39;major&#39;?"),
        ("provider=openai&kind=nope", "unknown event &#39;nope&#39;"),
    ],
)
def test_the_dry_run_refuses_an_unknown_provider_impact_or_event(
    console: Console, query: str, said: str
) -> None:
    status, _, page = get(f"{console.url}/subscriptions?{query}")
    assert status == 400
    assert 'id="dry-run-error"' in page and said in page
    assert 'id="dry-run"' not in page  # no answer: "Nobody" would be a lie


def test_the_dry_run_says_what_the_feed_cannot_carry(console: Console) -> None:
    # Azure's RSS reads every incident as major: a critical one cannot be read from it
    status, _, page = get(f"{console.url}/subscriptions?provider=azure&impact=critical")
    assert status == 200
    notes = page.split('id="dry-run-notes"')[1].split("</ul>")[0]
    assert "azure&#39;s feed reads every incident as major: a critical incident cannot" in notes


def test_the_silences_page_has_the_console_layout_and_a_nav_entry(console: Console) -> None:
    status, _, page = get(console.url + "/silences")
    assert status == 200
    assert '<link rel="stylesheet" href="/static/console.css">' in page
    assert '<a href="/silences">Silences</a>' in page
    status, _, now = get(console.url + "/")
    assert '<a href="/silences">Silences</a>' in now


def test_the_feeds_page_shows_polls_changes_and_the_304_rate(console: Console) -> None:
    status, _, page = get(console.url + "/feeds")
    assert status == 200
    row = page.split('data-provider="openai"')[1].split("</tr>")[0]
    assert "27 Dec 00:06 UTC" in row  # the last poll, which changed the snapshot
    assert "0 %" in row  # the local server answered no conditional GET with 304
    assert re.search(r"\d+ ms", row)


@pytest.mark.parametrize(
    ("path", "shows_title"),
    [("/", True), (f"/timeline?{WINDOW}", True), ("/incidents/cloudflare/x1demo26dec24", True),
     # the OpenAI alerts call Cloudflare's incident coincident, quoting its title
     (f"/incidents/openai/{OPENAI_ID}", True),
     ("/feeds", False), ("/subscriptions?provider=openai", False)],
)  # fmt: skip
def test_every_page_escapes_feed_text_and_carries_the_csp(
    console: Console, path: str, shows_title: bool
) -> None:
    status, headers, page = get(console.url + path)
    assert status in (200, 503)
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "<script>alert" not in page and "<img" not in page
    assert re.findall(r"<script\b[^>]*>", page) == ['<script src="/static/refresh.js" defer>']
    assert ("&lt;script&gt;alert(1)&lt;/script&gt;" in page) is shows_title


def test_the_hostile_title_shows_as_text_on_its_incident_page(console: Console) -> None:
    _, _, page = get(f"{console.url}/incidents/cloudflare/{quote('x1demo26dec24')}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in page


def test_the_console_is_read_only(console: Console) -> None:
    for path in ("/", "/timeline", "/subscriptions", "/feeds", f"/incidents/openai/{OPENAI_ID}"):
        assert get(console.url + path, method="POST")[0] == 405


def test_static_assets_are_served_by_the_service(console: Console) -> None:
    status, headers, body = get(console.url + "/static/refresh.js")
    assert status == 200 and "javascript" in headers["content-type"]
    assert "data-refresh" in body
    assert get(console.url + "/static/console.css")[0] == 200


def test_a_page_refreshes_only_while_an_incident_is_open(console: Console) -> None:
    _, _, now = get(console.url + "/")
    assert 'data-refresh="5"' in now  # Cloudflare's incident is open
    _, _, done = get(f"{console.url}/incidents/openai/{OPENAI_ID}")
    assert 'data-refresh="0"' in done  # resolved: nothing to refresh for


def test_the_token_guards_the_console_pages(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    ctx = WebWiring(client, "notifier-test:guard", "", LIMITS, web_token=SecretStr("t0ken"))
    web = WebThread(create_app(ctx), bind("127.0.0.1", 0)).start()
    try:
        for path in ("/timeline", "/feeds", "/subscriptions", "/static/console.css"):
            assert get(web.url + path)[0] == 401
    finally:
        web.stop()
        client.close()

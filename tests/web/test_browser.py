"""The console in a real browser (Debian's Chromium through Playwright), on the 26 Dec
reconstruction: find the Azure and OpenAI bars and the arrow between them, follow
OpenAI's bar to its delivery log, check that a hostile title opens no dialog, that
/metrics parses, and that the replay's --html file stands alone. Screenshots go to a
temporary folder; with NOTIFIER_TEST_DOCS_SCREENSHOT=1 the replay file's timeline (the
example as shipped, no hostile title) also goes to docs/img/dec26-timeline.png."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from notifier.cli.replay import run_replay
from tests.support.browser import chromium
from tests.support.console import Console, dec26_console
from tests.support.dec26 import EXAMPLE

ROOT = Path(__file__).resolve().parents[2]
# One worker runs this module: its tests share one Chromium and one console.
pytestmark = pytest.mark.xdist_group("web-browser")
OPENAI_ID = "01JG25G8609QK3M7RT2XBV6DHN"
WINDOW = "from=2024-12-26T17:00:00Z&to=2024-12-27T02:00:00Z"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Console]:
    with dec26_console(tmp_path_factory.mktemp("dec26"), redis_url) as served:
        yield served


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    opened = context.new_page()
    dialogs: list[str] = []
    opened.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    opened.dialogs = dialogs
    try:
        yield opened
    finally:
        context.close()


def test_the_timeline_shows_azure_causing_openai_and_leads_to_the_delivery_log(
    console: Console, page: Any, tmp_path: Path
) -> None:
    page.goto(f"{console.url}/timeline?{WINDOW}")
    azure = page.locator('rect.bar[data-incident="azure/DEMO-26DEC"]')
    openai = page.locator(f'rect.bar[data-incident="openai/{OPENAI_ID}"]')
    assert azure.count() == 1 and openai.count() == 1
    assert azure.bounding_box()["x"] < openai.bounding_box()["x"]  # Azure began first
    arrow = page.locator(f'path.link[data-from="azure/DEMO-26DEC"][data-to="openai/{OPENAI_ID}"]')
    assert arrow.count() == 1 and arrow.bounding_box()["height"] > 0
    assert page.locator("line.tick").count() == 13
    page.screenshot(path=str(tmp_path / "timeline.png"), full_page=True)
    openai.click()
    page.wait_for_url(f"**/incidents/openai/{OPENAI_ID}")
    log = page.locator("#delivery-log")
    assert log.locator("tr.delivery").count() == 11
    # the team's page and its all-clear, and the on-call's follow-up naming OpenAI
    assert log.locator("tr.delivery.status-sent[data-channel=sms]").count() == 3
    assert "likely caused by Microsoft Azure" in page.locator("main").inner_text()
    page.screenshot(path=str(tmp_path / "incident.png"), full_page=True)
    assert (tmp_path / "incident.png").stat().st_size > 10_000
    assert page.dialogs == []


@pytest.mark.parametrize(
    "path", ["/", f"/timeline?{WINDOW}", "/incidents/cloudflare/x1demo26dec24"]
)
def test_a_hostile_incident_title_opens_no_dialog(console: Console, page: Any, path: str) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(console.url + path)
    page.wait_for_timeout(300)
    assert page.dialogs == []
    assert "<script>alert(1)</script>" in page.locator("main").inner_text()  # shown as text
    assert page.locator("main img").count() == 0


def test_an_open_incident_page_refreshes_itself(console: Console, page: Any) -> None:
    page.clock.install()  # the page's timers run on a clock the test moves, not in real time
    page.goto(console.url + "/")  # Cloudflare's incident is open: data-refresh="5"
    assert page.locator("body[data-refreshed]").count() == 0
    page.clock.run_for(5_000)  # the refresh's 5 s pass: its fetch goes out for real
    # a selector, not a function: the CSP forbids the eval a function wait needs
    page.wait_for_selector("body[data-refreshed]", state="attached", timeout=12_000)
    assert page.locator("tr.provider").count() == 5  # the example watches five providers


def test_metrics_parse_with_prometheus_clients_parser(console: Console, page: Any) -> None:
    response = page.goto(console.url + "/metrics")
    assert response.status == 200
    families = {f.name: f for f in text_string_to_metric_families(response.text())}
    polls = families["notifier_polls"].samples
    assert {s.labels["provider"] for s in polls} == {
        "openai",
        "azure",
        "cloudflare",
        "microsoft365",
        "xbox",
    }
    assert "notifier_poll_duration_seconds" in families
    delivered = [s for s in families["notifier_deliveries"].samples
                 if s.labels.get("outcome") == "delivered"]  # fmt: skip
    assert sum(s.value for s in delivered) == 13


def test_the_replay_html_file_stands_alone(page: Any, tmp_path: Path) -> None:
    out = tmp_path / "dec26.html"
    err = io.StringIO()
    code = run_replay(EXAMPLE, EXAMPLE / "subscriptions.yaml", io.StringIO(), err, out)
    assert code == 0, err.getvalue()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(out.as_uri())
    assert page.locator("script").count() == 0
    assert requests == [out.as_uri()]  # nothing else fetched
    assert page.locator('rect.bar[data-incident="azure/DEMO-26DEC"]').count() == 1
    assert page.locator(f'path.link[data-to="openai/{OPENAI_ID}"]').count() == 1
    page.locator(f'rect.bar[data-incident="openai/{OPENAI_ID}"]').click()
    assert page.url.endswith(f"#incident-openai-{OPENAI_ID}")
    section = page.locator(f"#incident-openai-{OPENAI_ID}")
    assert section.locator("tr[data-channel=sms]").count() == 3  # page, follow-up, all-clear
    page.screenshot(path=str(tmp_path / "replay.png"), full_page=True)
    if os.environ.get("NOTIFIER_TEST_DOCS_SCREENSHOT") == "1":  # the example as shipped
        (ROOT / "docs" / "img").mkdir(exist_ok=True)
        page.locator("svg.timeline").screenshot(path=str(ROOT / "docs/img/dec26-timeline.png"))


def test_the_two_xbox_incidents_are_both_visible_and_the_presets_keep_the_end(
    console: Console, page: Any
) -> None:
    page.goto(f"{console.url}/timeline?{WINDOW}")
    boxes = [b.bounding_box() for b in page.locator('rect.bar[data-provider="xbox"]').all()]
    assert len(boxes) == 2
    assert boxes[0]["y"] + boxes[0]["height"] <= boxes[1]["y"]  # one lane each, none hidden
    page.get_by_role("link", name="1 h", exact=True).click()
    page.wait_for_url("**/timeline?from=2024-12-27T01%3A00%3A00Z&to=2024-12-27T02%3A00%3A00Z")
    page.get_by_role("link", name="7 d", exact=True).click()
    page.wait_for_url("**/timeline?from=2024-12-20T02%3A00%3A00Z&to=2024-12-27T02%3A00%3A00Z")


def test_the_silences_page_is_in_the_console_and_refuses_a_typo(
    console: Console, page: Any
) -> None:
    page.goto(console.url + "/")
    page.get_by_role("link", name="Silences").click()
    page.wait_for_url("**/silences")
    assert page.locator("nav").count() == 1  # the console's layout and stylesheet
    assert page.locator('link[rel=stylesheet][href="/static/console.css"]').count() == 1
    from playwright.sync_api import expect

    expect(page.locator("nav")).to_have_css("background-color", "rgb(17, 24, 39)")  # styled
    page.fill("input[name=provider]", "opena")
    page.fill("input[name=reason]", "a typo")
    page.click("form[action='/silences'] button[type=submit]")
    assert "did you mean 'openai'?" in page.locator("#silence-error").inner_text()

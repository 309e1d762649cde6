"""The console over alerts whose payloads were shrunk (`notifier.store.delivery.shrink`,
after NOTIFIER_ALERT_PAYLOAD_DAYS): the incident page still lists every delivery with its
status and message id and the incident's annotations, and the timeline its arrow."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from notifier.store.delivery.shrink import shrink_due
from tests.support.console import Console, dec26_console
from tests.web.test_console import OPENAI_ID, WINDOW, get, text_of

pytestmark = pytest.mark.xdist_group("web-console-shrunk")


@pytest.fixture(scope="module")
def shrunk(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Console]:
    with dec26_console(tmp_path_factory.mktemp("dec26-shrunk"), redis_url) as served:
        _, _, before = get(f"{served.url}/incidents/openai/{OPENAI_ID}")
        later = datetime.now(UTC) + timedelta(days=4)
        assert shrink_due(served.client, served.prefix, later, 3) > 0
        assert not list(served.client.scan_iter(match=f"{served.prefix}:dlog:*/*", count=1000))
        served.before = before  # type: ignore[attr-defined]
        yield served


def rows_of(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr class="delivery status-(\w+)" data-channel="(\w+)"', page)


def test_the_incident_page_lists_every_shrunk_delivery(shrunk: Console) -> None:
    status, _, page = get(f"{shrunk.url}/incidents/openai/{OPENAI_ID}")
    assert status == 200
    assert sorted(rows_of(page)) == sorted(rows_of(shrunk.before))  # type: ignore[attr-defined]
    words = text_of(page)
    assert "Possible upstream cause: Microsoft Azure" in words  # the incident's annotation
    assert re.search(r"<code>SM[0-9a-f]+", page)  # Twilio's message id, from the marker


def test_the_timeline_keeps_its_arrow_and_ticks_over_shrunk_alerts(shrunk: Console) -> None:
    status, _, page = get(f"{shrunk.url}/timeline?{WINDOW}")
    assert status == 200
    assert f'data-from="azure/DEMO-26DEC" data-to="openai/{OPENAI_ID}"' in page
    ticks = re.findall(r'class="tick"[^>]*data-channel="(\w+)"', page)
    assert sorted(ticks) == sorted(["slack"] * 4 + ["email"] * 4 + ["sms"] * 5)

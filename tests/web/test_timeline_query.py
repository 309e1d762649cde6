"""The timeline's window from the query, and its zoom and pan links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from notifier.web.timeline_query import window_of, zoom_links

NOW = datetime(2024, 12, 27, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # nothing asked: the last 24 hours
        (None, None, (NOW - timedelta(days=1), NOW)),
        ("2024-12-26T17:00:00Z", "2024-12-27T02:00:00Z",
         (datetime(2024, 12, 26, 17, tzinfo=UTC), datetime(2024, 12, 27, 2, tzinfo=UTC))),
        # no zone: UTC
        ("2024-12-26T17:00", "2024-12-26T19:00",
         (datetime(2024, 12, 26, 17, tzinfo=UTC), datetime(2024, 12, 26, 19, tzinfo=UTC))),
        # less than an hour: widened to one, ending where asked
        ("2024-12-26T18:50:00Z", "2024-12-26T19:00:00Z",
         (datetime(2024, 12, 26, 18, tzinfo=UTC), datetime(2024, 12, 26, 19, tzinfo=UTC))),
        # more than 90 days: the last 90 of them
        ("2020-01-01", "2024-12-27T02:00:00Z", (NOW - timedelta(days=90), NOW)),
        # backwards: the default span
        ("2024-12-27T02:00:00Z", "2024-12-26T02:00:00Z",
         (datetime(2024, 12, 25, 2, tzinfo=UTC), datetime(2024, 12, 26, 2, tzinfo=UTC))),
    ],
)  # fmt: skip
def test_the_window_is_what_the_query_asks_clamped_to_an_hour_and_90_days(
    start: str | None, end: str | None, expected: tuple[datetime, datetime]
) -> None:
    w = window_of(start, end, NOW)
    assert (w.start, w.end) == expected


@pytest.mark.parametrize(
    ("start", "end", "reason"),
    [
        ("yesterday", None, "from: 'yesterday' is not a time like 2024-12-26T18:00:00Z"),
        (None, "2024-13-01", "to: '2024-13-01' is not a time like"),
        ("0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z", "to: '9999-12-31T00:00:00Z' is outside"),
        ("0001-01-01T00:00:00Z", None, "from: '0001-01-01T00:00:00Z' is outside the years 1970"),
    ],
)
def test_an_unreadable_or_far_off_time_is_refused_with_its_reason(
    start: str | None, end: str | None, reason: str
) -> None:
    with pytest.raises(ValueError) as caught:
        window_of(start, end, NOW)
    assert reason in str(caught.value)


def spans(links: list[str]) -> list[timedelta]:
    out = []
    for href in links:
        q = parse_qs(urlsplit(href).query)
        out.append(datetime.fromisoformat(q["to"][0]) - datetime.fromisoformat(q["from"][0]))
    return out


def test_zoom_links_reach_from_an_hour_to_90_days_keeping_the_window_end() -> None:
    w = window_of("2024-12-26T17:00:00Z", "2024-12-27T02:00:00Z", NOW)
    nav = zoom_links(w, NOW + timedelta(days=1))  # panned back a day: later may go on
    texts = [n.text for n in nav]
    assert texts == ["← earlier", "1 h", "6 h", "24 h", "7 d", "30 d", "90 d", "zoom in",
                     "zoom out", "later →"]  # fmt: skip
    presets = spans([n.href for n in nav[1:7]])
    assert presets[0] == timedelta(hours=1) and presets[-1] == timedelta(days=90)
    ends = {parse_qs(urlsplit(n.href).query)["to"][0] for n in nav[1:7]}
    assert ends == {"2024-12-27T02:00:00Z"}  # every preset ends where the window ends
    zoom_in, zoom_out = spans([nav[7].href, nav[8].href])
    assert zoom_in == w.span / 4 and zoom_out == w.span * 4
    earlier, later = (parse_qs(urlsplit(n.href).query) for n in (nav[0], nav[-1]))
    assert earlier["to"] == ["2024-12-26T21:30:00Z"] and later["from"] == ["2024-12-26T21:30:00Z"]


def test_from_the_live_24_h_view_no_link_leaves_now_behind_or_passes_it() -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    live = window_of(None, None, now)  # the default: the last 24 hours
    nav = {n.text: parse_qs(urlsplit(n.href).query) for n in zoom_links(live, now)}
    assert nav["1 h"] == {"from": ["2026-12-07T11:00:00Z"], "to": ["2026-12-07T12:00:00Z"]}
    assert nav["7 d"] == {"from": ["2026-11-30T12:00:00Z"], "to": ["2026-12-07T12:00:00Z"]}
    for text in ("zoom out", "later →", "90 d"):
        assert nav[text]["to"] == ["2026-12-07T12:00:00Z"], text

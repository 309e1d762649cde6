"""The timeline renderer, table-tested: plain data in, SVG out (parsed as XML)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from notifier.web.timeline import (
    IMPACT_FILL,
    LABEL_W,
    PAD_R,
    WIDTH,
    Bar,
    Link,
    Row,
    Tick,
    Window,
    grid_step,
    render,
)

SVG = "{http://www.w3.org/2000/svg}"
T0 = datetime(2024, 12, 26, 17, tzinfo=UTC)
W = Window(T0, T0 + timedelta(hours=9))
NOW = T0 + timedelta(hours=9)
AZURE = Bar("azure", "AZ1", "Power event", "major", T0 + timedelta(minutes=65),
            T0 + timedelta(hours=8), "/incidents/azure/AZ1")  # fmt: skip
OPENAI = Bar("openai", "OA1", "Elevated errors", "major", T0 + timedelta(hours=2), None,
             "/incidents/openai/OA1")  # fmt: skip
ROWS = [Row("openai", "OpenAI"), Row("azure", "Microsoft Azure")]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def rects(root: ET.Element) -> list[ET.Element]:
    return [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]


def x_of(t: datetime, window: Window = W) -> float:
    share = (t - window.start) / window.span
    return round(LABEL_W + max(0.0, min(1.0, share)) * (WIDTH - LABEL_W - PAD_R), 1)


@pytest.mark.parametrize(
    ("bar", "x", "width"),
    [
        # inside the window: from its start to its end
        (AZURE, x_of(AZURE.start), round(x_of(AZURE.end or NOW) - x_of(AZURE.start), 1)),
        # still open: up to now
        (OPENAI, x_of(OPENAI.start), round(x_of(NOW) - x_of(OPENAI.start), 1)),
        # began before the window: clipped at its left edge
        (Bar("azure", "old", "t", "minor", T0 - timedelta(hours=3), T0 + timedelta(hours=1)),
         float(LABEL_W), round(x_of(T0 + timedelta(hours=1)) - LABEL_W, 1)),
        # a blip of a minute still shows, 3 px wide
        (Bar("azure", "blip", "t", "minor", T0 + timedelta(hours=1),
             T0 + timedelta(hours=1, seconds=5)), x_of(T0 + timedelta(hours=1)), 3.0),
    ],
)  # fmt: skip
def test_a_bar_spans_its_incident_clipped_to_the_window(bar: Bar, x: float, width: float) -> None:
    (rect,) = rects(parse(render(ROWS, [bar], [], [], W, NOW)))
    assert float(rect.get("x", "")) == x
    assert float(rect.get("width", "")) == pytest.approx(width, abs=0.11)


@pytest.mark.parametrize("impact", ["critical", "major", "minor", "maintenance"])
def test_a_bar_is_coloured_by_its_impact(impact: str) -> None:
    bar = Bar("azure", "A", "t", impact, T0 + timedelta(hours=1), T0 + timedelta(hours=2))
    (rect,) = rects(parse(render(ROWS, [bar], [], [], W, NOW)))
    assert rect.get("fill") == IMPACT_FILL[impact]


def test_bars_outside_the_window_are_left_out() -> None:
    before = Bar("azure", "B", "t", "minor", T0 - timedelta(days=2), T0 - timedelta(days=1))
    after = Bar("azure", "C", "t", "minor", W.end + timedelta(hours=1), None)
    root = parse(render(ROWS, [before, after, AZURE], [], [], W, NOW))
    ids = [r.get("data-incident") for r in rects(root)]
    assert ids == ["azure/AZ1"]


def test_each_row_is_one_provider_and_the_bar_sits_in_its_row() -> None:
    root = parse(render(ROWS, [AZURE, OPENAI], [], [], W, NOW))
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "row-label"]
    assert labels == ["OpenAI", "Microsoft Azure"]
    ys = {r.get("data-provider"): float(r.get("y", "")) for r in rects(root)}
    assert ys["openai"] < ys["azure"]  # the rows' order


def test_a_provider_with_bars_but_no_row_gets_one_at_the_end() -> None:
    extra = Bar("github", "G", "t", "minor", T0 + timedelta(hours=1), None)
    root = parse(render(ROWS, [extra], [], [], W, NOW))
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "row-label"]
    assert labels == ["OpenAI", "Microsoft Azure", "github"]


def test_a_related_pair_is_joined_by_one_arrow_from_the_upstream() -> None:
    link = Link(("azure", "AZ1"), ("openai", "OA1"))
    root = parse(render(ROWS, [AZURE, OPENAI], [link], [], W, NOW))
    (path,) = [p for p in root.iter(f"{SVG}path") if p.get("class") == "link"]
    assert (path.get("data-from"), path.get("data-to")) == ("azure/AZ1", "openai/OA1")
    assert path.get("marker-end") == "url(#arrow)"
    start = path.get("d", "").split()[0]  # "M<x>,<y>": begins at Azure's bar
    assert float(start[1:].split(",")[0]) == pytest.approx(x_of(AZURE.start) + 2)
    title = path.find(f"{SVG}title")
    assert title is not None and title.text == "openai — likely caused by azure"


def test_an_arrow_to_an_incident_outside_the_window_is_left_out() -> None:
    link = Link(("azure", "gone"), ("openai", "OA1"))
    root = parse(render(ROWS, [OPENAI], [link], [], W, NOW))
    assert [p for p in root.iter(f"{SVG}path") if p.get("class") == "link"] == []


def test_every_alert_is_a_tick_in_its_channels_lane() -> None:
    at = T0 + timedelta(hours=2, minutes=5)
    ticks = [
        Tick("openai", "OA1", "slack", "team", at, "sent"),
        Tick("openai", "OA1", "sms", "team", at, "sent"),
        Tick("openai", "OA1", "email", "team", at, "failed"),
        Tick("openai", "OA1", "email", "team", W.end + timedelta(hours=1), "sent"),  # outside
    ]
    root = parse(render(ROWS, [OPENAI], [], ticks, W, NOW))
    lines = [ln for ln in root.iter(f"{SVG}line") if ln.get("class") == "tick"]
    assert [(ln.get("data-channel"), ln.get("data-outcome")) for ln in lines] == [
        ("email", "failed"), ("slack", "sent"), ("sms", "sent")
    ]  # fmt: skip
    assert {float(ln.get("x1", "")) for ln in lines} == {x_of(at)}
    assert len({ln.get("y1") for ln in lines}) == 3  # one lane each
    failed = next(ln for ln in lines if ln.get("data-outcome") == "failed")
    assert failed.get("stroke") == "#dc2626"


@pytest.mark.parametrize(
    "title",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "]]><script>alert(1)</script>",
        '"/><script>alert(1)</script>',
        "\x1b[31mred\x07 & <b>bold</b>",
    ],
)
def test_hostile_feed_text_is_text_in_the_svg(title: str) -> None:
    bar = Bar("openai", title, title, "major", T0 + timedelta(hours=1), None, "/x")
    link = Link(("openai", title), ("openai", title))
    tick = Tick("openai", title, title, title, T0 + timedelta(hours=1), title)
    svg = render([Row("openai", title)], [bar], [link], [tick], W, NOW)
    root = parse(svg)  # still well-formed XML
    assert not [e for e in root.iter() if e.tag in (f"{SVG}script", f"{SVG}img", "script")]
    assert "<script" not in svg and "<img" not in svg and "\x1b" not in svg
    assert all(not k.startswith("on") for e in root.iter() for k in e.attrib)


@pytest.mark.parametrize(
    ("span", "step"),
    [
        (timedelta(hours=1), timedelta(minutes=5)),
        (timedelta(hours=9), timedelta(hours=1)),
        (timedelta(days=1), timedelta(hours=2)),
        (timedelta(days=7), timedelta(days=1)),
        (timedelta(days=90), timedelta(days=14)),
    ],
)
def test_the_grid_has_at_most_twelve_lines_at_any_zoom(span: timedelta, step: timedelta) -> None:
    assert grid_step(span) == step
    window = Window(T0, T0 + span)
    root = parse(render(ROWS, [], [], [], window, T0 + span))
    grid = [ln for ln in root.iter(f"{SVG}line") if ln.get("class") == "grid"]
    assert 1 <= len(grid) <= 13


def test_overlapping_incidents_of_one_provider_get_a_lane_each() -> None:
    # Dec 26: two Xbox incidents open over the same hours; one bar hid the other
    first = Bar("xbox", "X1", "Sign-in", "minor", T0 + timedelta(hours=1), T0 + timedelta(hours=8))
    second = Bar("xbox", "X2", "Store", "minor", T0 + timedelta(hours=1), T0 + timedelta(hours=8))
    later = Bar("xbox", "X3", "Party chat", "minor", T0 + timedelta(hours=8, minutes=30), None)
    root = parse(render([Row("xbox", "Xbox"), *ROWS], [first, second, later, AZURE], [], [],
                        W, NOW))  # fmt: skip
    ys = {r.get("data-incident"): float(r.get("y", "")) for r in rects(root)}
    assert ys["xbox/X1"] != ys["xbox/X2"]  # overlapping: one above the other
    assert ys["xbox/X3"] == ys["xbox/X1"]  # after both: back in the first lane
    assert ys["azure/AZ1"] > max(ys["xbox/X1"], ys["xbox/X2"])  # the next row clears both

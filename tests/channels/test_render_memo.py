"""One rendering per (event, channel kind) and template inputs, shared by every
subscriber: the route and dedup key are no template input."""

from __future__ import annotations

import dataclasses

from notifier.channels.memo import RenderMemo
from notifier.channels.render import Presentation
from notifier.channels.slack import blocks
from notifier.models import Alert, AlertKind, Annotation, AnnotationKind
from tests.planning_helpers import event, incident


def _alert(subscriber: str) -> Alert:
    ev = event(incident("openai", "01JG", "2024-12-26 19:00"))
    return Alert(
        dedup_key=f"{ev.event_id}/{subscriber}/slack", thread_key=f"{subscriber}/slack/o/1",
        kind=AlertKind.NEW, subscriber=subscriber, channel="slack", event=ev, page=True,
    )  # fmt: skip


def test_every_subscriber_of_an_event_shares_one_rendering() -> None:
    memo, p = RenderMemo(), Presentation()
    made = [memo.get("parent", a, lambda a=a: blocks.parent_message(a, p))  # type: ignore[misc]
            for a in (_alert(f"team{n}") for n in range(500))]  # fmt: skip
    assert memo.renders == 1
    assert made[0] == blocks.parent_message(_alert("team499"), p)
    assert all(m is made[0] for m in made)


def test_different_template_inputs_render_again() -> None:
    memo = RenderMemo()
    plain = _alert("a")
    note = Annotation(AnnotationKind.UPSTREAM, "Azure is down too", "azure/1", "azure", "1")
    annotated = dataclasses.replace(_alert("b"), annotations=(note,))
    resolved = dataclasses.replace(_alert("c"), kind=AlertKind.RESOLVED)
    for alert in (plain, annotated, resolved, _alert("d")):
        memo.get("parent", alert, lambda: object())
    assert memo.renders == 3
    memo.get("reply", plain, lambda: object())  # another part of the message
    assert memo.renders == 4

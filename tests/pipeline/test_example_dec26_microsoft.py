"""The 26 Dec 2024 example with Microsoft 365 and Xbox in their real feed formats.

The Microsoft 365 posts and Xbox status documents in the example were made here (see the
example's README): Microsoft's own incident id for Microsoft 365, a status-only Xbox feed
whose incidents notifier synthesizes after two polls.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

from notifier.cli.replay import run_replay

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "2024-12-26-openai-azure"
IT_DESK = """
  - name: it-desk
    email: {to: [it-desk@example.com]}
    filters:
      providers: [microsoft365, xbox]
"""


def _replay(config: Path) -> list[dict[str, Any]]:
    out, err = io.StringIO(), io.StringIO()
    assert run_replay(EXAMPLE, config, out, err) == 0, err.getvalue()
    assert _problems(err.getvalue()) == []
    return [json.loads(line) for line in out.getvalue().splitlines()]


def _with_it_desk(tmp_path: Path) -> Path:
    copy = tmp_path / "subscriptions.yaml"
    copy.write_text((EXAMPLE / "subscriptions.yaml").read_text() + IT_DESK)
    return copy


def test_the_replay_shows_microsoft_365_and_xbox_opening_and_resolving_around_the_power_event() -> (
    None
):
    events = [
        (r["at"], r["provider"], r["kind"])
        for r in _replay(EXAMPLE / "subscriptions.yaml")
        if r["type"] == "event" and r["kind"] in {"new_incident", "resolved"}
    ]
    assert events == [
        ("2024-12-26T18:20:00Z", "microsoft365", "new_incident"),
        ("2024-12-26T18:30:00Z", "azure", "new_incident"),
        # Xbox said "Impacted" at 18:25; the second poll confirms it (hysteresis)
        ("2024-12-26T18:30:00Z", "xbox", "new_incident"),
        ("2024-12-26T18:30:00Z", "xbox", "new_incident"),
        ("2024-12-26T19:00:00Z", "cloudflare", "new_incident"),
        ("2024-12-26T19:05:00Z", "openai", "new_incident"),
        ("2024-12-26T23:30:00Z", "microsoft365", "resolved"),
        ("2024-12-27T00:05:00Z", "openai", "resolved"),  # with its final words (history)
        ("2024-12-27T01:02:00Z", "azure", "resolved"),
        ("2024-12-27T01:10:00Z", "xbox", "resolved"),
        ("2024-12-27T01:10:00Z", "xbox", "resolved"),
    ]


def test_microsoft_365_keeps_microsofts_id_and_xbox_gets_a_stable_synthesized_one() -> None:
    lines = [r for r in _replay(EXAMPLE / "subscriptions.yaml") if r["type"] == "event"]
    m365 = {r["incident_id"] for r in lines if r["provider"] == "microsoft365"}
    xbox = sorted({r["incident_id"] for r in lines if r["provider"] == "xbox"})
    assert m365 == {"MO966473"}
    assert [i.rsplit("-", 1)[0] for i in xbox] == [
        "account-profile-20241226T1824Z",  # from the feed's own LastUpdated of the first sighting
        "store-subscriptions-20241226T1824Z",
    ]


def test_their_alerts_name_azure_upstream_and_say_the_link_is_assumed(tmp_path: Path) -> None:
    alerts = [
        r
        for r in _replay(_with_it_desk(tmp_path))
        if r["type"] == "alert" and r["subscriber"] == "it-desk"
    ]
    by = {(a["provider"], a["kind"], a["at"]): a for a in alerts}
    xbox_new = by[("xbox", "new", "2024-12-26T18:30:00Z")]
    up = [n for n in xbox_new["annotations"] if n["kind"] == "upstream"]
    assert up[0]["provider"] == "azure"
    assert up[0]["text"].startswith("Possible upstream cause: Microsoft Azure — 'Power event")
    assert up[0]["text"].endswith("Xbox runs on Microsoft Azure (assumed dependency)")
    # Microsoft 365 posted before Azure did: its first alert cannot know; its update can.
    m365_update = by[("microsoft365", "update", "2024-12-26T20:00:00Z")]
    texts = [n["text"] for n in m365_update["annotations"] if n["kind"] == "upstream"]
    assert texts and texts[0].endswith("Microsoft 365 runs on Microsoft Azure (assumed dependency)")


def test_openais_upstream_annotation_says_the_partnership_is_public() -> None:
    alerts = [r for r in _replay(EXAMPLE / "subscriptions.yaml") if r["type"] == "alert"]
    first = next(a for a in alerts if a["provider"] == "openai" and a["kind"] == "new")
    up = next(n for n in first["annotations"] if n["kind"] == "upstream")
    assert up["text"].endswith("OpenAI runs on Microsoft Azure (public partnership)")


def _problems(err: str) -> list[str]:
    """What the replay said on stderr but its closing count: each line is a problem."""
    return [
        line for line in err.splitlines() if not re.search(r" incidents in \d+ snapshots", line)
    ]

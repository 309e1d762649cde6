"""The example's README says, event by event, what replaying the folder sends: each claim
is held to what `notifier replay` prints, and no alert of the replay goes unmentioned.

A claim is a numbered line `N. **HH:MM** Provider name `kind`. Sends …` (`(27 Dec)` after
the time for the next day); what it sends is the `subscriber/channel` pairs in backticks
after "Sends", or "Sends nothing"."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from notifier.config.load import load_config
from tests.support.cli import run_notifier

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "2024-12-26-openai-azure"
CLAIM = re.compile(
    r"^\d+\. \*\*(?P<time>\d\d:\d\d)(?: \((?P<day>\d+) Dec\))?\*\* (?P<name>.+?) "
    r"`(?P<kind>\w+)`(?P<rest>.*?)(?=^\d+\. |^\S|\Z)",
    re.MULTILINE | re.DOTALL,
)
PAIR = re.compile(r"`([\w-]+/[a-z]+)`")


@dataclass(frozen=True)
class Claim:
    at: str  # ISO 8601, as the replay prints it
    provider: str
    kind: str
    sends: frozenset[str]
    quotes: tuple[str, ...] = ()  # alert text the README quotes (`…` stands for any text)


def claims() -> list[Claim]:
    text = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    section = text.split("## What you will see", 1)[1].split("\n## ", 1)[0]
    config = load_config(EXAMPLE / "subscriptions.yaml")
    ids = {config.provider_name(p.id): p.id for p in config.providers}
    out = []
    for m in CLAIM.finditer(section):
        sends = m["rest"].split("Sends", 1)[1]
        sends = sends.split(".", 1)[0] if sends.lstrip().startswith("nothing") else sends
        pairs = frozenset(PAIR.findall(sends.split(":", 1)[0].split(". ", 1)[0]))
        assert m["name"] in ids, f"{m['name']!r} is not a provider of the example: {ids}"
        day = m["day"] or "26"
        quotes = tuple(q for q in re.findall(r"`([^`]+)`", m["rest"]) if " " in q and len(q) >= 20)
        at = f"2024-12-{day}T{m['time']}:00Z"
        out.append(Claim(at, ids[m["name"]], m["kind"], pairs, quotes))
    return out


@pytest.fixture(scope="module")
def replay() -> list[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOTIFIER_")}
    done = run_notifier(["replay", str(EXAMPLE), "--config", str(EXAMPLE / "subscriptions.yaml")],
                        env=env | {"PYTHONPATH": str(ROOT)}, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def _alerts(replay: list[dict[str, Any]], at: str, provider: str) -> frozenset[str]:
    return frozenset(
        f"{r['subscriber']}/{r['channel']}"
        for r in replay
        if r["type"] == "alert" and r["at"] == at and r["provider"] == provider
    )


def test_the_readme_makes_claims_to_check() -> None:
    found = claims()
    assert len(found) >= 10, found
    assert any(c.sends for c in found) and any(not c.sends for c in found)


@pytest.mark.parametrize("claim", claims(), ids=lambda c: f"{c.at[11:16]}-{c.provider}")
def test_each_claimed_event_happens_and_sends_what_the_readme_says(
    claim: Claim, replay: list[dict[str, Any]]
) -> None:
    events = {(r["at"], r["provider"], r["kind"]) for r in replay if r["type"] == "event"}
    assert (claim.at, claim.provider, claim.kind) in events, sorted(events)
    assert _alerts(replay, claim.at, claim.provider) == claim.sends
    texts = [r["text"] for r in replay if r["type"] == "alert" and r["at"] == claim.at
             and r["provider"] == claim.provider]  # fmt: skip
    for quote in claim.quotes:
        pattern = ".*?".join(re.escape(part) for part in quote.split("…"))
        assert any(re.search(pattern, t) for t in texts), f"{quote!r} in none of {texts}"


def test_no_alert_and_no_opening_or_resolution_goes_unmentioned(
    replay: list[dict[str, Any]],
) -> None:
    said = {(c.at, c.provider) for c in claims()}
    said_kinds = {(c.at, c.provider, c.kind) for c in claims()}
    for r in replay:
        if r["type"] == "alert":
            assert (r["at"], r["provider"]) in said, f"an alert the README omits: {r['text']}"
        elif r["kind"] in ("new_incident", "resolved"):
            assert (r["at"], r["provider"], r["kind"]) in said_kinds, f"not in the README: {r}"

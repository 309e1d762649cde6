"""The 26 Dec 2024 reconstruction, end to end through `notifier replay --config`."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

from notifier.cli.replay import run_replay

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "2024-12-26-openai-azure"


def _replay() -> list[dict[str, Any]]:
    out, err = io.StringIO(), io.StringIO()
    code = run_replay(EXAMPLE, EXAMPLE / "subscriptions.yaml", out, err)
    assert code == 0, err.getvalue()
    assert _problems(err.getvalue()) == []  # every snapshot parsed
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_the_openai_alert_names_azure_upstream_and_cloudflare_coincident() -> None:
    alerts = [r for r in _replay() if r["type"] == "alert" and r["subscriber"] != "oncall"]
    first = alerts[0]
    assert (first["provider"], first["kind"]) == ("openai", "new")
    kinds = {a["kind"]: a for a in first["annotations"]}
    assert kinds["upstream"]["provider"] == "azure"
    assert kinds["upstream"]["text"].startswith(
        "Possible upstream cause: Microsoft Azure — 'Power event impacting multiple services"
    )
    assert kinds["coincident"]["provider"] == "cloudflare"
    assert kinds["coincident"]["text"].startswith("Coincident, no known link: Cloudflare")
    assert kinds["downstream"]["text"] == "Affects your services: chatbot"
    assert "Possible upstream cause: Microsoft Azure" in first["text"]


def test_one_page_then_thread_updates_then_the_resolution() -> None:
    alerts = [r for r in _replay() if r["type"] == "alert" and r["subscriber"] != "oncall"]
    assert {a["provider"] for a in alerts} == {"openai"}  # azure and cloudflare are context
    sms = [a["kind"] for a in alerts if a["channel"] == "sms"]
    assert sms == ["new", "resolved"]  # one page, and its all-clear
    slack = [a for a in alerts if a["channel"] == "slack"]
    assert [a["kind"] for a in slack] == ["new", "update", "update", "resolved"]
    assert len({a["thread_key"] for a in slack}) == 1
    # OpenAI's own words name the upstream provider once it says so
    cause = [n for n in slack[1]["annotations"] if n["kind"] == "stated_cause"]
    assert cause and cause[0]["text"].startswith("Stated cause: upstream/third-party provider")
    assert len({a["dedup_key"] for a in alerts}) == len(alerts)


def test_the_on_call_gets_one_text_for_azure_and_one_follow_up_naming_openai() -> None:
    texts = [r for r in _replay() if r["type"] == "alert" and r["subscriber"] == "oncall"]
    assert [(t["at"], t["provider"], t["kind"]) for t in texts] == [
        ("2024-12-26T18:30:00Z", "azure", "new"),  # the page
        ("2024-12-26T19:05:00Z", "openai", "follow_up"),  # OpenAI joins the Azure cascade
        # the page's all-clear: Azure's item left the feed at 01:00, confirmed gone at 01:02
        ("2024-12-27T01:02:00Z", "azure", "resolved"),
    ]
    page, follow_up, _ = texts
    assert follow_up["thread_key"] == page["thread_key"]  # to whoever the Azure page reached
    assert follow_up["text"] == (
        "[FOLLOW-UP] Also down: +OpenAI major, likely caused by the Microsoft Azure "
        "incident; affects chatbot"
    )


def test_openais_resolution_quotes_its_final_update_from_the_saved_history() -> None:
    records = _replay()
    resolved = [r for r in records if r["provider"] == "openai" and r["kind"] == "resolved"]
    event = resolved[0]
    assert event["type"] == "event"
    # the item left the list at 00:05 and the saved history showed it closed: resolved
    # at once, under the provider's own resolving update, with no note of ours
    assert (event["at"], event["status"], event["update_at"]) == (
        "2024-12-27T00:05:00Z", "resolved", "2024-12-27T00:01:47Z",
    )  # fmt: skip
    assert "note" not in event
    alerts = [r for r in resolved if r["type"] == "alert"]
    assert {a["channel"] for a in alerts} == {"slack", "sms", "email"}
    for alert in alerts:
        assert "ChatGPT, the API and Sora have fully recovered" in alert["text"], alert["channel"]
        assert "no final update was published" not in alert["text"]


def _problems(err: str) -> list[str]:
    """What the replay said on stderr but its closing count: each line is a problem."""
    return [
        line for line in err.splitlines() if not re.search(r" incidents in \d+ snapshots", line)
    ]

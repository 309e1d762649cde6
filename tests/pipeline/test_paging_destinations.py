"""The new destinations through the whole service (poll, plan, deliver) on a real Redis
with an inline dispatcher: PagerDuty gets one trigger when an incident opens and one
resolve when it ends, under one dedup key; `config check` accepts every new route."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from notifier.cli import main
from notifier.pipeline.ingest import stage as ingest
from notifier.store.delivery.deliverylog import DeliveryLog
from tests.fakes.pagerduty_api import FakePagerDuty
from tests.support.feed_server import feed_server
from tests.support.handoff import InlineHandOff
from tests.support.runtime import build_runtime
from tests.support.statuspage_docs import FakeIncident, summary_json

# Its fake feed servers listen on 127.0.0.1, which the fetch guard refuses unless allowed.
pytestmark = pytest.mark.usefixtures("local_fetches")

NOW = datetime(2024, 12, 26, 19, 5, tzinfo=UTC)


def test_pagerduty_is_triggered_once_and_resolved_under_one_dedup_key(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    pd = FakePagerDuty().start()
    monkeypatch.setenv("PD_ROUTING_KEY", pd.routing_key)
    incident = FakeIncident("k7pdinc00001", "Elevated API errors", components=["API"])
    incident.add("investigating", "2024-12-26T19:00:00.000Z", "Looking into it.")
    try:
        with feed_server() as feeds:
            feeds.put("/s.json", summary_json([]))
            rt = build_runtime(
                tmp_path, redis_url, key_prefix,
                "providers:\n  - id: acme\n    name: Acme Cloud\n"
                f"    feed: {{url: '{feeds.url('/s.json')}', format: statuspage-json}}\n"
                "subscribers:\n  - name: oncall\n"
                "    pagerduty: {routing_key_env: PD_ROUTING_KEY}\n",
                pagerduty_api_url=pd.url,
            )  # fmt: skip
            now = NOW
            steps = [
                lambda: None,
                lambda: None,
                lambda: incident.add("identified", "2024-12-26T19:10:00.000Z", "Found it."),
                lambda: incident.add("resolved", "2024-12-26T19:30:00.000Z", "Fixed."),
                lambda: None,  # the summary drops it: absence is confirmed by two polls
                lambda: None,
            ]
            for i, step in enumerate(steps):
                step()
                feeds.put("/s.json", summary_json([incident] if i else []))
                ingest.poll(rt, "acme", InlineHandOff(rt, now), now)
                now += timedelta(minutes=1)
    finally:
        pd.stop()
    actions = [(e["event_action"], e["dedup_key"]) for e in pd.events]
    key = "notifier/acme/k7pdinc00001"
    assert actions == [("trigger", key), ("resolve", key)]  # the update stays out of the pager
    assert pd.alerts == {key: "resolved"}
    outcomes = {r.kind: r.outcome for r in DeliveryLog(redis_client, key_prefix).recent()}
    assert outcomes == {"new": "delivered", "resolved": "delivered"}


def test_config_check_accepts_every_new_destination(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PD_ROUTING_KEY", "OPSGENIE_API_KEY", "HOOK_SECRET", "APPRISE_URLS"):
        monkeypatch.setenv(name, "set-for-the-check")
    path = tmp_path / "subscriptions.yaml"
    path.write_text(
        "providers: [{id: openai}]\n"
        "subscribers:\n"
        "  - name: oncall\n"
        "    pagerduty: {routing_key_env: PD_ROUTING_KEY}\n"
        "    opsgenie: {api_key_env: OPSGENIE_API_KEY}\n"
        "    fallback: webhook\n"
        "    webhook: {url: 'https://hooks.example.com/notifier', secret_env: HOOK_SECRET}\n"
        "    apprise: {urls_env: APPRISE_URLS}\n"
    )
    assert main(["config", "check", str(path)]) == 0
    out = capsys.readouterr()
    assert "subscriber oncall: pagerduty, opsgenie, webhook, apprise" in out.out
    assert "warning" not in out.err


def test_config_check_names_an_unset_variable_and_a_bad_route(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PD_ROUTING_KEY", raising=False)
    path = tmp_path / "subscriptions.yaml"
    path.write_text(
        "providers: [{id: openai}]\n"
        "subscribers:\n  - name: oncall\n    pagerduty: {routing_key_env: PD_ROUTING_KEY}\n"
    )
    assert main(["config", "check", str(path)]) == 0
    err = capsys.readouterr().err
    assert "pagerduty cannot deliver without PD_ROUTING_KEY set in the environment" in err
    path.write_text(
        "providers: [{id: openai}]\n"
        "subscribers:\n  - name: oncall\n    webhook: {url: 'http://example.com/x'}\n"
        "    opsgenie: {api_key_env: 'not a name'}\n"
    )
    assert main(["config", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "subscribers[0].webhook.url: must be an https:// URL" in err
    assert "http://example.com/x" not in err  # a secret: described, never quoted
    # What was given where a variable name belongs may be the key itself: never quoted.
    assert "subscribers[0].opsgenie.api_key_env: not an environment variable name" in err
    assert "not a name" not in err

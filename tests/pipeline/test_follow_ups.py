"""Fold, don't hide: on a real Redis with the real Twilio client against the fake,
incidents that join a cascade reach the person paged for it as follow-up texts,
at most one per `group_interval`, through the held set that beat sweeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from notifier.pipeline.delivery import release
from notifier.pipeline.delivery import stage as delivery
from notifier.pipeline.ingest import stage as ingest
from tests.fakes.twilio_api import FakeTwilio
from tests.support.feed_server import feed_server
from tests.support.handoff import InlineHandOff
from tests.support.runtime import build_runtime
from tests.support.statuspage_docs import FakeIncident, summary_json

# Its fake feed servers listen on 127.0.0.1, which the fetch guard refuses unless allowed.
pytestmark = pytest.mark.usefixtures("local_fetches")

T0 = datetime(2024, 12, 26, 18, 30, tzinfo=UTC)
ONCALL = "+15550100"


def _incident(iid: str, name: str, at: datetime) -> FakeIncident:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return FakeIncident(iid, name, created_at=stamp).add("investigating", stamp, f"{name}.")


def test_downstream_incidents_reach_the_paged_on_call_as_batched_follow_ups(
    tmp_path: Path, redis_url: str, key_prefix: str, redis_client: redis.Redis,
    fake_twilio: FakeTwilio,
) -> None:  # fmt: skip
    with feed_server() as feeds:
        deps = "".join(
            f"  - id: d{i}\n    name: Shop{i}\n"
            f"    feed: {{url: '{feeds.url(f'/d{i}.json')}', format: statuspage-json}}\n"
            "    depends_on: [acme]\n"
            for i in (1, 2, 3)
        )
        rt = build_runtime(
            tmp_path, redis_url, key_prefix,
            "providers:\n  - id: acme\n    name: Acme Cloud\n"
            f"    feed: {{url: '{feeds.url('/acme.json')}', format: statuspage-json}}\n" + deps
            + "services:\n  storefront: {depends_on: [d2]}\n"
            f"subscribers:\n  - name: oncall\n    sms: {{to: ['{ONCALL}']}}\n"
            "    filters: {min_impact: major}\n",
            twilio_account_sid=fake_twilio.account_sid, twilio_auth_token=fake_twilio.auth_token,
            twilio_from="+15550000", twilio_api_url=fake_twilio.url,
        )  # fmt: skip

        def poll(provider: str, name: str, at: datetime) -> list[str]:
            feeds.put(f"/{provider}.json", summary_json([_incident(f"{provider}1", name, at)]))
            d = InlineHandOff(rt, deliver=False, now=at)
            assert ingest.poll(rt, provider, d, at).outcome == "changed"
            for key in d.delivered:
                delivery.attempt_one(rt, key, d, at)
            return d.delivered

        for i in (1, 2, 3):
            feeds.put(f"/d{i}.json", summary_json([]))
            ingest.poll(
                rt, f"d{i}", InlineHandOff(rt, deliver=False, now=T0), T0
            )  # seen quiet first
        feeds.put("/acme.json", summary_json([]))
        ingest.poll(rt, "acme", InlineHandOff(rt, deliver=False, now=T0), T0)

        poll("acme", "Power event", T0)  # the page
        assert len(fake_twilio.to(ONCALL)) == 1
        # Two dependants fold in within the interval: nothing yet, one batch held.
        assert poll("d1", "Checkout errors", T0 + timedelta(minutes=1)) == []
        assert poll("d2", "Search down", T0 + timedelta(minutes=3)) == []
        assert len(fake_twilio.to(ONCALL)) == 1
        sweep = InlineHandOff(rt, deliver=False, now=T0 + timedelta(minutes=5))
        assert release.release_held(rt, sweep, T0 + timedelta(minutes=4)) == 0
        assert release.release_held(rt, sweep, T0 + timedelta(minutes=5)) == 1
        for key in sweep.delivered:
            assert (
                delivery.attempt_one(rt, key, sweep, T0 + timedelta(minutes=5)).status
                == "delivered"
            )
        _page, follow_up = fake_twilio.to(ONCALL)
        assert follow_up == (
            "Also down: +Shop1 major; +Shop2 major, likely caused by the Acme Cloud "
            "incident; affects storefront"
        )
        # A third, after the follow-up went: the next one waits for the next interval.
        assert poll("d3", "Login slow", T0 + timedelta(minutes=6)) == []
        assert release.release_held(rt, sweep, T0 + timedelta(minutes=9)) == 0
        late = InlineHandOff(rt, deliver=False, now=T0 + timedelta(minutes=10))
        assert release.release_held(rt, late, T0 + timedelta(minutes=10)) == 1
        for key in late.delivered + sweep.delivered:  # a re-delivery sends nothing twice
            delivery.attempt_one(rt, key, late, T0 + timedelta(minutes=10))
        assert fake_twilio.to(ONCALL)[2:] == [
            "Also down: +Shop3 major, likely caused by the Acme Cloud incident"
        ]

"""The 26 Dec 2024 reconstruction (examples/2024-12-26-openai-azure) played into a real
Redis through the service's own stages: every snapshot is served by a local feed server
in capture order and polled, planned and delivered by the pipeline's stages at its
capture time, to the fake Slack and Twilio and a real SMTP server. What the web console
then reads is exactly what a running service would have written that evening."""

from __future__ import annotations

from pathlib import Path

import yaml

from notifier.config.load import Config, load_config
from notifier.pipeline.delivery import release
from notifier.pipeline.ingest import stage as ingest
from notifier.pipeline.replay import discover
from tests.fakes.slack_api import FakeSlack
from tests.fakes.smtp import FakeSmtp
from tests.fakes.twilio_api import FakeTwilio
from tests.support.feed_server import feed_server
from tests.support.handoff import InlineHandOff
from tests.support.local import LOCAL_CIDRS
from tests.support.runtime import build_runtime

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "2024-12-26-openai-azure"
TYPES = {".json": "application/json", ".xml": "application/rss+xml"}


def load_dec26(
    tmp: Path, redis_url: str, prefix: str, slack: FakeSlack, twilio: FakeTwilio,
    smtp: FakeSmtp, example: Path = EXAMPLE,
) -> Config:  # fmt: skip
    """Play the example into Redis under `prefix`; returns the loaded config (the
    example's subscriptions, with each feed pointed at the local server)."""
    original = load_config(example / "subscriptions.yaml")
    formats = {p.id: p.format for p in original.resolved_providers()}
    with feed_server() as feeds:
        doc = yaml.safe_load((example / "subscriptions.yaml").read_text())
        for p in doc["providers"]:
            p["feed"] = {"url": feeds.url(f"/{p['id']}"), "format": formats[p["id"]]}
        rt = build_runtime(
            tmp, redis_url, prefix, yaml.safe_dump(doc),
            slack_token="xoxb-dec26", slack_api_url=slack.url,
            twilio_account_sid=twilio.account_sid, twilio_auth_token=twilio.auth_token,
            twilio_from="+15550000", twilio_api_url=twilio.url,
            smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False,
            fetch_allow_networks=LOCAL_CIDRS,  # the feed server is on 127.0.0.1
        )  # fmt: skip
        config = rt.config
        for snap in discover(example, lambda message: None):
            feeds.put(f"/{snap.provider}", snap.path.read_bytes(), TYPES[snap.path.suffix])
            inline = InlineHandOff(rt, snap.at)
            ingest.poll(rt, snap.provider, inline, snap.at)
            # what the beat's sweeps would release by then: follow-ups, held alerts
            release.release_held(rt, inline, snap.at)
        rt.client.close()
        return config

"""The one way tests build a service `Runtime`: a subscription file written from YAML
text, settings for it (plus any overrides), and `Runtime.build` on the test's Redis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from notifier.config.load import load_config
from notifier.config.settings import Settings
from notifier.pipeline.runtime.wiring import Runtime


def build_runtime(
    tmp_path: Path, redis_url: str, key_prefix: str, subscriptions: str, *,
    file: str = "subscriptions.yaml", **settings: Any,
) -> Runtime:  # fmt: skip
    """A Runtime for the subscription file `subscriptions` (YAML text), written to `file`
    under `tmp_path`; `settings` are passed to `Settings` (e.g. `slack_token`)."""
    config = tmp_path / file
    config.write_text(subscriptions)
    built = Settings(_env_file=None, config=config, key_prefix=key_prefix, **settings)  # type: ignore[call-arg]
    return Runtime.build(built, redis_url, load_config(config))


def one_slack_route(
    feed_url: str, channel: str = "#vendor-status", subscriber: str = "platform",
    name: str = "Acme Cloud",
) -> str:  # fmt: skip
    """A subscription file (made here) watching one Statuspage JSON feed, `acme`, with one
    subscriber on one Slack channel: the smallest path from a poll to a post."""
    return (
        f"providers:\n  - id: acme\n    name: {name}\n"
        f"    feed: {{url: '{feed_url}', format: statuspage-json}}\n"
        f"subscribers:\n  - name: {subscriber}\n    slack: {{channel: '{channel}'}}\n"
    )

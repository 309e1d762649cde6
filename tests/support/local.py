"""The loopback networks tests' fake servers live on: the address guard refuses them
unless allowed (notifier.feeds.guard), as it would in production."""

from __future__ import annotations

from notifier.feeds.guard import parse_networks

LOCAL_CIDRS = "127.0.0.0/8,::1/128"
LOCAL = parse_networks(LOCAL_CIDRS)
ALLOW_ENV = {"NOTIFIER_FETCH_ALLOW_NETWORKS": LOCAL_CIDRS}

"""The `feeds` health check: is the service blind to the providers it watches?

A provider is blind when its feed is not `ok` (`notifier.feeds.states`) and has had
no good poll for `INTERVALS` of its poll intervals: counted from its last good poll,
or, when it never had one, from the first failure of its streak. A provider never
polled is `unknown`, and not counted blind (the `beat` check covers polls that never
happen). The check fails when more than `share` of the watched providers are blind
(NOTIFIER_FEEDS_BLIND_SHARE, default half), so a broken egress path or DNS fails
`/healthz`, `notifier status` and stops the dead man's switch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import redis

from notifier.feeds.states import FeedState, feed_state
from notifier.models import parse_iso
from notifier.store.feeds.providers import ProviderStore

INTERVALS = 3
FIELDS = ("polled_at", "ok_at", "since", "failures", "unreachable", "cause")


@dataclass(frozen=True, slots=True)
class Watched:
    provider: str
    interval_s: float


@dataclass(frozen=True, slots=True)
class Blind:
    provider: str
    state: FeedState
    age_s: float  # since the last good poll (or the streak's first failure)


def read_feeds(
    client: redis.Redis, prefix: str, watched: Sequence[Watched]
) -> dict[str, dict[str, str]]:
    """Each watched provider's hash fields that health needs, in one round trip."""
    store = ProviderStore(client, prefix)
    pipe = client.pipeline(transaction=False)
    for w in watched:
        pipe.hmget(store.provider_key(w.provider), list(FIELDS))
    out = {}
    for w, values in zip(watched, pipe.execute(), strict=True):
        out[w.provider] = {
            f: (v.decode() if isinstance(v, bytes) else v)
            for f, v in zip(FIELDS, values, strict=True)
            if v is not None
        }
    return out


def blind_feeds(
    raw: Mapping[str, Mapping[str, str]], watched: Sequence[Watched], now: datetime
) -> list[Blind]:
    """The watched providers with no good poll for INTERVALS intervals, in watch order."""
    found = []
    for w in watched:
        h = raw.get(w.provider, {})
        state = feed_state(h)
        if state in (FeedState.OK, FeedState.UNKNOWN):
            continue
        since = parse_iso(h.get("ok_at") or h.get("since") or h.get("polled_at") or None)
        age = max(0.0, (now - since).total_seconds()) if since is not None else 0.0
        if age > INTERVALS * w.interval_s:
            found.append(Blind(w.provider, state, age))
    return found


def describe(blind: Sequence[Blind], total: int, share: float) -> tuple[bool, str]:
    """(ok, detail) of the check: fails when more than `share` of `total` are blind."""
    ok = len(blind) <= share * total
    if not blind:
        return ok, f"{total} watched, none without a good poll for {INTERVALS} intervals"
    names = ", ".join(f"{b.provider} ({b.state.value}, {b.age_s:.0f} s)" for b in blind)
    detail = f"{len(blind)} of {total} without a good poll for {INTERVALS} intervals: {names}"
    if not ok:
        detail += f"; more than {share:.0%} of the watched providers: blind"
    return ok, detail

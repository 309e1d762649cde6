"""Forget the providers removed from the subscription file: no key of theirs stays behind.

The tick (`notifier.pipeline.ingest.tick`) finds them at its first run after a reload
(and once a minute after): the providers Redis still schedules (`{p}:cadence:due`,
`{p}:cadence:why`, `{p}:cadence:hold`) that the file no longer names. For each it removes

- its schedule: `cadence:due` members `poll:<id>` and `probe:<id>:<n>`, `cadence:why` and
  `cadence:hold` fields;
- its state: `provider:<id>` (and its poll lease), its `rebaseline` mark;
- its entries in the `incidents` hash (`<id>/<incident>`): an open one would count as open
  forever;
- its fields in the `metrics` hash (`...|provider=<id>|...`);
- what discovery kept: `discovered:<id>`, `discovered:<id>:moves`, `components:<id>`.

Its events (`event:*`, `events-of:<id>/*`) and alerts expire on their own within 30 days.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis

from notifier.store.conn.batch import text


def scheduled_providers(client: redis.Redis, prefix: str) -> set[str]:
    """Every provider Redis schedules or explains, configured or not."""
    pipe = client.pipeline(transaction=False)
    pipe.zrange(f"{prefix}:cadence:due", 0, -1)
    pipe.hkeys(f"{prefix}:cadence:why")
    pipe.hkeys(f"{prefix}:cadence:hold")
    members, why, hold = pipe.execute()
    found = {text(f) for f in [*why, *hold]}
    for m in members:
        kind, _, rest = text(m).partition(":")
        if kind == "poll":
            found.add(rest)
        elif kind == "probe":
            found.add(rest.rpartition(":")[0])
    return found


def forget_providers(client: redis.Redis, prefix: str, gone: Iterable[str]) -> list[str]:
    """Remove every key and field of the `gone` providers; the ones forgotten."""
    gone = sorted(set(gone))
    for provider in gone:
        _forget(client, prefix, provider)
    return gone


def _forget(client: redis.Redis, prefix: str, provider: str) -> None:
    due = f"{prefix}:cadence:due"
    probes = [text(m) for m in client.zscan_iter(due, match=f"probe:{provider}:*")]
    incidents = [
        text(f) for f, _ in client.hscan_iter(f"{prefix}:incidents", match=f"{provider}/*")
    ]
    label = f"provider={provider.replace('|', '_').replace('=', '_')}"
    metrics = [
        text(f)
        for f, _ in client.hscan_iter(f"{prefix}:metrics", match=f"*|{label}*")
        if f"|{label}|" in text(f) + "|"
    ]
    pipe = client.pipeline(transaction=False)
    pipe.zrem(due, f"poll:{provider}", *probes)
    pipe.hdel(f"{prefix}:cadence:why", provider)
    pipe.hdel(f"{prefix}:cadence:hold", provider)
    pipe.srem(f"{prefix}:rebaseline", provider)
    pipe.delete(
        f"{prefix}:provider:{provider}",
        f"{prefix}:provider:{provider}:lock",
        f"{prefix}:discovered:{provider}",
        f"{prefix}:discovered:{provider}:moves",
        f"{prefix}:components:{provider}",
    )
    if incidents:
        pipe.hdel(f"{prefix}:incidents", *incidents)
    if metrics:
        pipe.hdel(f"{prefix}:metrics", *metrics)
    pipe.execute()

"""What `notifier run|worker|beat` says when it starts: the start that shows it works.

Two parts, both plain text for a terminal:

- `startup_lines`: the subscription file with how many providers and subscribers, which
  providers are watched, and for each channel whether it has credentials, and where its
  alerts go otherwise (printed on stdout by the console, or the subscriber's fallback).
  `web_url` is the hook for a harness that also serves the web endpoints: pass the URL
  and a `web` line says where they are.
- `first_round` / `FirstRound.lines`: after the first round of polls, one line per
  provider: "baseline taken, N open incidents", or "unreachable: <cause in plain words>".
  It reads what the polls recorded in Redis, so it works in whichever process asks
  (the worker that polled, or the command that started it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from notifier.channels.build import ROUTED, VENDORS, credentials
from notifier.config.schema import Config
from notifier.config.schema.subscribers import Subscriber
from notifier.config.settings import Settings
from notifier.feeds.errors import cause_words
from notifier.feeds.states import FeedState, feed_state
from notifier.models import IncidentKind, parse_iso
from notifier.store.feeds.providers import ProviderStore
from notifier.store.feeds.snapshot import IncidentState

PROVIDERS_SHOWN = 8  # more than this are summarised as "and N more"


def startup_lines(
    settings: Settings, config: Config, config_path: Path, web_url: str | None = None
) -> list[str]:
    """The banner: config, watched providers, one line per channel, the web URL if served."""
    providers = config.resolved_providers()
    subs = config.subscribers
    lines = [
        f"config    {config_path}: {_count(len(providers), 'provider')}, "
        f"{_count(len(subs), 'subscriber')}"
    ]
    if providers:
        shown = [f"{p.id} (every {p.poll_interval}s)" for p in providers[:PROVIDERS_SHOWN]]
        more = len(providers) - len(shown)
        lines.append("watching  " + ", ".join(shown) + (f" and {more} more" if more else ""))
    have = credentials(settings, subs)
    routed = {k.name for k in ROUTED}
    for name in VENDORS:
        if name in routed and name not in have:
            continue  # shown only when a subscriber routes to it
        lines.append(f"{name:<9} {_channel_line(name, have, subs)}")
    if web_url:
        lines.append(f"web       {web_url}  (the console, the webhooks, /healthz, /metrics)")
    return lines


def _channel_line(name: str, have: Mapping[str, str], subs: Sequence[Subscriber]) -> str:
    users = [s for s in subs if name in s.channel_names()]
    used = f"; used by {', '.join(s.name for s in users)}" if users else "; no subscriber uses it"
    if name in have:
        return f"can deliver ({have[name]}){used}"
    if not have:
        return f"no credentials: its alerts print on stdout (console){used}"
    if not users:
        return "no credentials; no subscriber uses it"
    where = [f"{s.name} -> {s.fallback if s.fallback and s.fallback != name else 'lost'}"
             for s in users]  # fmt: skip
    return "no credentials: its alerts fail over to the fallback (" + ", ".join(where) + ")"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


@dataclass(frozen=True, slots=True)
class FirstRound:
    """How each provider's first poll since `since` went; `pending` were not polled yet."""

    done: Mapping[str, str]  # provider id -> "baseline taken, 2 open incidents" | ...
    pending: tuple[str, ...]

    def lines(self) -> list[str]:
        width = max((len(p) for p in [*self.done, *self.pending]), default=0)
        out = [f"{pid:<{width}}  {text}" for pid, text in self.done.items()]
        out += [f"{pid:<{width}}  unknown: not polled yet" for pid in self.pending]
        return out


def polled_before(store: ProviderStore, provider_ids: Sequence[str]) -> dict[str, bool]:
    """Which providers already had a snapshot before this start (a restart resumes)."""
    return {pid: bool(store.status(pid).get("polled_at")) for pid in provider_ids}


def first_round(
    store: ProviderStore, provider_ids: Sequence[str], since: datetime, resumed: Mapping[str, bool]
) -> FirstRound:
    """What the polls since `since` recorded, one entry per provider."""
    done: dict[str, str] = {}
    pending: list[str] = []
    for pid in provider_ids:
        raw = store.status(pid)
        at = parse_iso(raw.get("polled_at") or None)
        if at is None or at < since.replace(microsecond=0):
            pending.append(pid)
            continue
        feed = feed_state(raw)
        if feed is not FeedState.OK:  # the same word `notifier status` and the console say
            done[pid] = f"{feed.value}: {cause_words(raw.get('cause') or None)}"
            continue
        state = store.load_state(pid)
        incidents = list(state.incidents.values()) if state else []
        open_ = [i for i in incidents if _open_incident(i)]
        how = "resumed from the last run" if resumed.get(pid) else "baseline taken"
        done[pid] = f"{how}, {_count(len(open_), 'open incident')}"
    return FirstRound(done, tuple(pending))


def wait_first_round(
    store: ProviderStore,
    provider_ids: Sequence[str],
    since: datetime,
    resumed: Mapping[str, bool],
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> FirstRound:
    """`first_round` once every provider has answered, or when `timeout` seconds are up."""
    deadline = clock() + timeout
    while True:
        found = first_round(store, provider_ids, since, resumed)
        if not found.pending or clock() >= deadline:
            return found
        sleep(0.25)


def _open_incident(known: IncidentState) -> bool:
    inc = known.snapshot
    # gone_at: it scrolled out of a history window; nothing more will be heard of it.
    return inc.is_active and inc.kind is IncidentKind.INCIDENT and known.gone_at is None


__all__ = ["FirstRound", "first_round", "polled_before", "startup_lines", "wait_first_round"]

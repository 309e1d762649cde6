"""Dependencies learned from the history: lagged co-occurrence against chance.

For each ordered pair of providers (A, B): of A's m incidents, in how many n did an
incident at B begin within the window (default 90 minutes) after A's began? Chance:
B's incidents as a Poisson process at its base rate over the history's span (its
incident count / the span), so one window holds at least one of B's starts with
probability p0 = 1 - exp(-rate_B * window). Under independence n ~ Binomial(m, p0);
the p-value is the one-sided binomial tail P(X >= n), and the lift is (n/m) / p0.
An edge is suggested (B depends on A) only from at least `MIN_CO` co-occurrences and
below the significance level; each comes with the incidents behind it.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from notifier.history import tables as t
from notifier.history.db import utc

MIN_CO = 3  # never suggest from fewer co-occurrences
METHOD = "one-sided binomial test against B's Poisson base rate"


@dataclass(frozen=True, slots=True)
class Pair:
    upstream_incident: str
    downstream_incident: str
    lag_min: float


@dataclass
class Edge:
    upstream: str  # A
    downstream: str  # B: depends on A
    n: int  # A's incidents followed by one of B's within the window
    m: int  # A's incidents
    median_lag_min: float
    chance: float  # p0
    p_value: float
    lift: float
    window_min: int
    known: str = ""  # "catalog" or "config" when the edge is already there, "implied" by others
    pairs: list[Pair] = field(default_factory=list)

    def sentence(self, names: Mapping[str, str]) -> str:
        """'7 of 9 Azure incidents were followed by an OpenAI incident within 90 min'."""
        a, b = names.get(self.upstream, self.upstream), names.get(self.downstream, self.downstream)
        article = "an" if b[:1].lower() in "aeiou" else "a"
        return (f"{self.n} of {self.m} {a} incidents were followed by {article} {b} incident "
                f"within {self.window_min} min")  # fmt: skip


Starts = dict[str, list[tuple[datetime, str]]]  # provider -> sorted (start, incident id)


def load_starts(engine: Engine, since: datetime | None = None) -> Starts:
    c = t.incidents.c
    q = select(c.provider, c.incident_id, c.started_at).where(
        c.kind == "incident", c.started_at.is_not(None)
    )
    if since is not None:
        q = q.where(c.started_at >= since)
    out: Starts = defaultdict(list)
    with engine.connect() as conn:
        for p, i, at in conn.execute(q):
            when = utc(at)
            if when is not None:
                out[p].append((when, i))
    for v in out.values():
        v.sort()
    return dict(out)


def binom_tail(n: int, m: int, p: float) -> float:
    """P(X >= n) for X ~ Binomial(m, p), summed in log space."""
    if n <= 0:
        return 1.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    lp, lq = math.log(p), math.log1p(-p)
    terms = [
        math.lgamma(m + 1) - math.lgamma(k + 1) - math.lgamma(m - k + 1) + k * lp + (m - k) * lq
        for k in range(n, m + 1)
    ]
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(x - top) for x in terms))


def suggest(
    starts: Starts, window: timedelta = timedelta(minutes=90), alpha: float = 0.01,
    known: Mapping[str, Collection[str]] | None = None,
    direct: Mapping[str, Mapping[str, str]] | None = None,
) -> list[Edge]:  # fmt: skip
    """Candidate edges, strongest evidence first. `known` maps a provider to every
    upstream the configuration implies (transitively), `direct` to the ones it names,
    each with where it is named ("catalog" or "config")."""
    everything = [at for v in starts.values() for at, _ in v]
    if len(everything) < 2:
        return []
    span = max(max(everything) - min(everything), window)
    edges = []
    for a, a_starts in sorted(starts.items()):
        for b, b_starts in sorted(starts.items()):
            if a == b:
                continue
            edge = _edge(a, a_starts, b, b_starts, window, span)
            if edge is None or edge.n < MIN_CO or edge.p_value >= alpha:
                continue
            named = (direct or {}).get(b, {})
            if a in named:
                edge.known = named[a]
            elif a in (known or {}).get(b, ()):
                edge.known = "implied"
            edges.append(edge)
    edges.sort(key=lambda e: (e.p_value, -e.n, e.upstream, e.downstream))
    return edges


def _edge(
    a: str, a_starts: list[tuple[datetime, str]], b: str, b_starts: list[tuple[datetime, str]],
    window: timedelta, span: timedelta,
) -> Edge | None:  # fmt: skip
    times = [at for at, _ in b_starts]
    pairs = []
    for at, iid in a_starts:
        k = bisect.bisect_left(times, at)
        if k < len(times) and times[k] - at <= window:
            lag = (times[k] - at).total_seconds() / 60
            pairs.append(Pair(f"{a}/{iid}", f"{b}/{b_starts[k][1]}", round(lag, 1)))
    m, n = len(a_starts), len(pairs)
    if n == 0:
        return None
    rate = len(b_starts) / span.total_seconds()
    chance = -math.expm1(-rate * window.total_seconds())
    return Edge(
        a, b, n, m, round(statistics.median(p.lag_min for p in pairs), 1), chance,
        binom_tail(n, m, chance), (n / m) / chance if chance > 0 else math.inf,
        int(window.total_seconds() // 60), pairs=pairs,
    )  # fmt: skip

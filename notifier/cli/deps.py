"""`notifier deps suggest`: dependencies between your vendors, learned from the history.

Lists each candidate edge A -> B (B depends on A) whose incidents co-occur more than
chance: B's incident began within the window after A's, in n of A's m incidents; the
median lag; the p-value of a one-sided binomial test against B's Poisson base rate and
the lift; the incidents behind it. Edges already in the configuration are marked.
Never from fewer than 3 co-occurrences. `--accept A->B` writes a listed edge into the
subscription file as `confidence: observed`, with its evidence.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from notifier.annotate.graph import upstreams
from notifier.cli._shared import emit_lines
from notifier.config.load import ConfigError, load_config
from notifier.config.settings import get_settings
from notifier.history import db
from notifier.history.accept import AcceptError, accept
from notifier.history.suggest import METHOD, Edge, load_starts, suggest

SHOWN_PAIRS = 10


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    raw = argparse.RawDescriptionHelpFormatter
    p = sub.add_parser("deps", help="dependencies learned from the incident history",
                       description=__doc__, formatter_class=raw)  # fmt: skip
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    s = actions.add_parser("suggest", help="list candidate edges with their evidence")
    s.add_argument("--window", type=int, default=90, help="minutes after A's start (default 90)")
    s.add_argument("--alpha", type=float, default=0.01, help="significance level (default 0.01)")
    s.add_argument("--since", help="only incidents from this date on (YYYY-MM-DD)")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.add_argument("--accept", metavar="A->B", help="write this listed edge into the file")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = get_settings()
    try:
        config = load_config(settings.config_path())
    except ConfigError as exc:
        print(f"notifier deps: {exc}", file=sys.stderr)
        return 2
    names = {p.id: p.name for p in config.resolved_providers()}
    graph = config.dependency_graph()
    known = {node: set(upstreams(node, graph)) for node in graph}
    direct = {node: {d.provider: d.source.split(":")[0] for d in deps}
              for node, deps in graph.items()}  # fmt: skip
    since = datetime.fromisoformat(args.since).replace(tzinfo=UTC) if args.since else None
    url = db.database_url(settings)
    try:
        starts = load_starts(db.ready(url), since)
    except SQLAlchemyError as exc:
        print(f"notifier deps: {db.shown(url)}: {type(exc).__name__}. Run `notifier db "
              "upgrade`?", file=sys.stderr)  # fmt: skip
        return 2
    edges = suggest(starts, timedelta(minutes=args.window), args.alpha, known, direct)
    if args.accept:
        return _accept(args.accept, edges, names, settings.config_path())
    if args.json:
        # A list: JSON Lines, one edge a line, each saying how it was found.
        how = {"method": METHOD, "window_min": args.window, "alpha": args.alpha}
        emit_lines(({**how, **asdict(e)} for e in edges), sys.stdout)
        return 0
    print(f"Candidate dependencies, A -> B (B depends on A): B's incident began within "
          f"{args.window} min after A's; {METHOD}, alpha {args.alpha}; at least 3 "
          "co-occurrences")  # fmt: skip
    if not edges:
        print("  none")
    for e in edges:
        mark = f"  [{'implied by the configuration' if e.known == 'implied' else 'in ' + e.known}]"
        mark = mark if e.known else ""
        print(f"  {e.upstream} -> {e.downstream}: {e.n} of {e.m}, median lag "
              f"{e.median_lag_min:g} min, p={e.p_value:.2g}, lift {e.lift:.1f}{mark}")  # fmt: skip
        print(f"    {e.sentence(names)}")
        for pair in e.pairs[:SHOWN_PAIRS]:
            print(f"    {pair.upstream_incident} -> {pair.downstream_incident} "
                  f"(+{pair.lag_min:g} min)")  # fmt: skip
        if len(e.pairs) > SHOWN_PAIRS:
            print(f"    ... and {len(e.pairs) - SHOWN_PAIRS} more")
    return 0


def _accept(wanted: str, edges: list[Edge], names: dict[str, str], path: Path) -> int:
    a, sep, b = wanted.replace("->", ":").partition(":")
    edge = next((e for e in edges if (e.upstream, e.downstream) == (a.strip(), b.strip())), None)
    if not sep or edge is None:
        print(f"notifier deps: {wanted} is not a listed edge (run `notifier deps suggest`)",
              file=sys.stderr)  # fmt: skip
        return 2
    if edge.known in ("config", "catalog"):
        print(f"notifier deps: {a} -> {b} is already in the {edge.known}", file=sys.stderr)
        return 2
    pairs = ", ".join(f"{p.upstream_incident}->{p.downstream_incident}" for p in edge.pairs[:5])
    comment = (f"observed by `notifier deps suggest` on {datetime.now(UTC):%Y-%m-%d}: "
               f"{edge.n} of {edge.m}, median lag {edge.median_lag_min:g} min, "
               f"p={edge.p_value:.2g} ({METHOD}), lift {edge.lift:.1f}; e.g. {pairs}")  # fmt: skip
    try:
        accept(path, b.strip(), a.strip(), edge.sentence(names), comment)
    except (AcceptError, OSError) as exc:
        print(f"notifier deps: not written: {exc}", file=sys.stderr)
        return 2
    print(f"notifier deps: wrote {a.strip()} -> {b.strip()} into {path} (confidence: observed)")
    return 0

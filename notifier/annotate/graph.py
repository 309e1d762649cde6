"""The dependency graph: who relies on whom, transitively, with the path that says why.

A graph maps a node (provider id, or `service:<name>` for your own services) to
its direct upstream `Dependency` edges. Region lists on an edge narrow it: the
dependant relies on the upstream only in those regions.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from notifier.config.schema.providers import Dependency

Graph = dict[str, tuple[Dependency, ...]]


@dataclass(frozen=True, slots=True)
class Path:
    """`start` reaches `hops[-1].provider` through these edges (shortest first)."""

    start: str
    hops: tuple[Dependency, ...]

    @property
    def last(self) -> Dependency:
        return self.hops[-1]

    def describe(self) -> str:
        """'openai depends on azure (catalog: …)' — one clause per hop."""
        parts = []
        node = self.start.removeprefix("service:")
        for dep in self.hops:
            where = f" in {', '.join(dep.regions)}" if dep.regions else ""
            parts.append(f"{node} depends on {dep.provider}{where} ({dep.source or 'config'})")
            node = dep.provider
        return "; ".join(parts)


def upstreams(start: str, graph: Graph) -> dict[str, Path]:
    """Every node `start` depends on, transitively, with the shortest path (BFS)."""
    found: dict[str, Path] = {}
    queue: deque[Path] = deque(Path(start, (d,)) for d in graph.get(start, ()))
    while queue:
        path = queue.popleft()
        node = path.last.provider
        if node == start or node in found:
            continue
        found[node] = path
        queue.extend(Path(start, (*path.hops, d)) for d in graph.get(node, ()))
    return found


def downstreams(target: str, regions: Iterable[str], graph: Graph) -> dict[str, Path]:
    """Nodes that depend on `target`, skipping edges pinned to regions other than
    `regions` (when the incident names regions at all)."""
    affected = tuple(regions)
    out: dict[str, Path] = {}
    # Most nodes (catalog providers) depend on nothing: only those with an edge can
    # reach `target` (a search from each of ~300 nodes cost ~1 ms per event).
    for node in sorted(n for n, edges in graph.items() if edges):
        path = upstreams(node, graph).get(target)
        if path is None or node == target:
            continue
        pinned = path.last.regions
        if pinned and affected and not regions_overlap(pinned, affected):
            continue
        out[node] = path
    return out


def norm(name: str) -> str:
    """Compare names loosely: 'South Central US' == 'southcentralus'."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def regions_overlap(a: Iterable[str], b: Iterable[str]) -> bool:
    return bool({norm(x) for x in a} & {norm(y) for y in b})

"""Annotations: what else is going on that might explain (or be explained by) an incident.

Pure and deterministic: `annotate(event, config, world, now)` looks at the recent
incidents of all watched providers (`world`) and the dependency graph (catalog
edges plus the subscription file's) and returns, in this order:

- `upstream`: incidents at providers this one depends on (transitively), active or
  resolved within the last 2 hours, ranked by closeness in time, region overlap,
  component overlap, directness and impact;
- `stated_cause`: the category the provider's own words name (see `notifier.annotate.causes`);
- `downstream`: your services and watched providers that depend on this provider;
- `coincident`: other watched providers' incidents that started within 30 minutes
  with no known dependency either way.

Each annotation's `reason` says why it was made.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from notifier.annotate.causes import stated_cause
from notifier.annotate.graph import Path, downstreams, norm, regions_overlap, upstreams
from notifier.config.schema import Config
from notifier.config.schema.providers import ASSUMED_BASIS, CONFIG_BASIS, Dependency, DependencySpec
from notifier.models import Annotation, AnnotationKind, ChangeEvent, Incident, IncidentKind

RESOLVED_LOOKBACK = timedelta(hours=2)  # a just-resolved upstream still explains an incident
UPSTREAM_LEAD = timedelta(minutes=30)  # an upstream may post up to this long after us
COINCIDENT_WINDOW = timedelta(minutes=30)
MAX_UPSTREAM = 3
MAX_COINCIDENT = 5


@dataclass(frozen=True, slots=True)
class UpstreamCandidate:
    incident: Incident
    path: Path  # how this provider reaches the upstream
    score: float
    region_match: bool


def reference_time(incident: Incident, fallback: datetime) -> datetime:
    """When an incident began, as far as we know."""
    return incident.started_at or incident.updated_at or fallback


def upstream_candidates(
    incident: Incident,
    graph: dict[str, tuple[Dependency, ...]],
    world: Sequence[Incident],
    now: datetime,
) -> list[UpstreamCandidate]:
    """Incidents in `world` that may be this one's upstream cause, best first."""
    paths = upstreams(incident.provider, graph)
    ref = reference_time(incident, now)
    found = []
    for other in world:
        path = paths.get(other.provider)
        if path is None or not _plausible_upstream(other, ref, now):
            continue
        wanted = path.last.regions
        if wanted and other.regions and not regions_overlap(wanted, other.regions):
            continue  # the dependency is on other regions than the ones affected
        region_match = bool(wanted) and regions_overlap(wanted, other.regions)
        score = _score(incident, other, path, ref, now, region_match)
        found.append(UpstreamCandidate(other, path, score, region_match))
    found.sort(key=lambda c: (-c.score, c.incident.provider, c.incident.id))
    return found


def _plausible_upstream(other: Incident, ref: datetime, now: datetime) -> bool:
    if other.kind is not IncidentKind.INCIDENT:
        return False
    started = reference_time(other, now)
    if started > ref + UPSTREAM_LEAD:
        return False
    if other.is_active:
        return True
    ended = other.resolved_at or other.updated_at
    return ended is not None and ended >= min(now, ref) - RESOLVED_LOOKBACK


def _score(
    incident: Incident,
    other: Incident,
    path: Path,
    ref: datetime,
    now: datetime,
    region_match: bool,
) -> float:
    hours = abs((ref - reference_time(other, now)).total_seconds()) / 3600
    score = 1.0 / (1.0 + hours)  # closeness in time dominates
    score += 0.5 if region_match else 0.0
    comps = {norm(c) for c in incident.components} & {norm(c) for c in other.components}
    score += 0.25 if comps else 0.0
    score += 0.25 if len(path.hops) == 1 else 0.0
    score += 0.05 * other.impact.rank
    score += 0.1 if other.is_active else 0.0
    return round(score, 4)


def with_history(incident: Incident, known: Incident | None) -> Incident:
    """`incident` with any older updates `known` remembers (stored snapshots may keep
    only the latest update, and the stated cause is often in an earlier one)."""
    if known is None or known.updates == incident.updates:
        return incident
    by_key = {u.key or f"{u.at.isoformat()}#{n}": u for n, u in enumerate(known.updates)}
    by_key.update({u.key or f"{u.at.isoformat()}#{n}": u for n, u in enumerate(incident.updates)})
    return replace(incident, updates=tuple(sorted(by_key.values(), key=lambda u: u.at)))


def event_upstreams(
    event: ChangeEvent, config: Config, world: Sequence[Incident], now: datetime
) -> list[UpstreamCandidate]:
    """Every upstream candidate of an event's incident among the other incidents of
    `world`, best first. The planner computes this once per event and hands it both to
    `annotate` and to the cascade grouping."""
    ref = (event.provider, event.incident_id)
    others = [i for i in world if (i.provider, i.id) != ref]
    # No `with_history` needed: candidates depend on times, regions and components,
    # never on the update history it adds.
    return upstream_candidates(event.incident, config.dependency_graph(), others, now)


def annotate(
    event: ChangeEvent,
    config: Config,
    world: Sequence[Incident],
    now: datetime,
    upstream: Sequence[UpstreamCandidate] | None = None,
) -> tuple[Annotation, ...]:
    """All annotations for an event's incident; see the module docstring.

    `upstream`: the event's `event_upstreams`, when the caller has them already."""
    ref = (event.provider, event.incident_id)
    known = next((i for i in world if (i.provider, i.id) == ref), None)
    incident = with_history(event.incident, known)
    graph = config.dependency_graph()
    others = [i for i in world if (i.provider, i.id) != ref]
    if upstream is None:
        upstream = upstream_candidates(incident, graph, others, now)
    ups = upstream[:MAX_UPSTREAM]
    out = [_upstream_annotation(config, incident, c, now) for c in ups]
    out.extend(_stated(incident, config))
    out.extend(_downstream(config, incident, graph))
    out.extend(_coincident(config, incident, graph, others, now))
    return tuple(out)


def _upstream_annotation(
    config: Config, incident: Incident, c: UpstreamCandidate, now: datetime
) -> Annotation:
    other = c.incident
    started = reference_time(other, now)
    ref = reference_time(incident, now)
    if other.is_active:
        when = f"active since {clock(started, ref)}"
    else:
        when = f"resolved at {clock(other.resolved_at or started, ref)}"
    text = (
        f"Possible upstream cause: {config.provider_name(other.provider)} — "
        f"'{quote(other.title)}', {when}, {relative(started, ref)}; "
        f"{dependency_clause(config, c.path)}"
    )
    reason = c.path.describe()
    if c.region_match:
        reason += f"; affected region matches {', '.join(c.path.last.regions)}"
    reason += f"; started {relative(started, ref)}"
    return Annotation(
        AnnotationKind.UPSTREAM, text, reason, other.provider, other.id, score=c.score
    )


def dependency_clause(config: Config, path: Path) -> str:
    """Why the link is believed, in words: 'OpenAI runs on Microsoft Azure (public
    partnership)'; an edge nobody stated publicly reads '(assumed dependency)'."""
    names = [_node_name(config, path.start), *(_node_name(config, d.provider) for d in path.hops)]
    bases = list(dict.fromkeys(d.basis or CONFIG_BASIS for d in path.hops))
    if ASSUMED_BASIS in bases:  # one assumed hop makes the whole chain an assumption
        bases = [ASSUMED_BASIS]
    if len(path.hops) == 1:
        return f"{names[0]} runs on {names[1]} ({'; '.join(bases)})"
    through = ", ".join(names[1:-1])
    return f"{names[0]} depends on {names[-1]} through {through} ({'; '.join(bases)})"


def _node_name(config: Config, node: str) -> str:
    if node.startswith("service:"):
        return node.removeprefix("service:")
    return config.provider_name(node)


def _stated(incident: Incident, config: Config) -> list[Annotation]:
    cause = stated_cause(incident)
    if cause.category == "unknown":
        return []
    name = config.provider_name(incident.provider)
    verb = "states" if cause.causal else "mentions"
    text = f"Stated cause: {cause.label} — {name}: '{quote(cause.phrase)}'"
    reason = f"{name} {verb} it in its own update (keyword table category {cause.category!r})"
    return [Annotation(AnnotationKind.STATED_CAUSE, text, reason, incident.provider, incident.id)]


def _downstream(
    config: Config, incident: Incident, graph: dict[str, tuple[Dependency, ...]]
) -> list[Annotation]:
    out = []
    affected = _affected(config, incident, graph)
    services = sorted(k.removeprefix("service:") for k in affected if k.startswith("service:"))
    if services:
        text = f"Affects your services: {', '.join(services)}"
        reason = "; ".join(affected[f"service:{s}"].describe() for s in services)
        out.append(Annotation(AnnotationKind.DOWNSTREAM, text, reason, incident.provider))
    watched = [p.id for p in config.providers if p.id in affected]
    if watched:
        names = ", ".join(config.provider_name(p) for p in watched)
        text = (
            f"Watched providers that depend on {config.provider_name(incident.provider)}: {names}"
        )
        reason = "; ".join(affected[p].describe() for p in watched)
        out.append(Annotation(AnnotationKind.DOWNSTREAM, text, reason, incident.provider))
    return out


def _affected(
    config: Config, incident: Incident, graph: dict[str, tuple[Dependency, ...]]
) -> dict[str, Path]:
    service_graph = {f"service:{n}": tuple(_deps(s.depends_on)) for n, s in config.services.items()}
    return downstreams(incident.provider, incident.regions, {**graph, **service_graph})


def affected_services(config: Config, incident: Incident) -> list[str]:
    """Your own services that depend on the incident's provider (in its regions), sorted."""
    affected = _affected(config, incident, config.dependency_graph())
    return sorted(k.removeprefix("service:") for k in affected if k.startswith("service:"))


def _deps(specs: Iterable[DependencySpec]) -> Iterable[Dependency]:
    return (s.edge() for s in specs)


def _coincident(
    config: Config,
    incident: Incident,
    graph: dict[str, tuple[Dependency, ...]],
    others: Sequence[Incident],
    now: datetime,
) -> list[Annotation]:
    ref = reference_time(incident, now)
    linked = set(upstreams(incident.provider, graph)) | set(
        downstreams(incident.provider, (), graph)
    )
    watched = {p.id for p in config.providers}
    mine = set(upstreams(incident.provider, graph))
    best: dict[str, Incident] = {}
    for other in others:
        if other.provider == incident.provider or other.provider in linked:
            continue
        if other.provider not in watched or other.kind is not IncidentKind.INCIDENT:
            continue
        delta = abs(reference_time(other, now) - ref)
        if delta > COINCIDENT_WINDOW:
            continue
        current = best.get(other.provider)
        if current is None or delta < abs(reference_time(current, now) - ref):
            best[other.provider] = other
    ranked = sorted(best.values(), key=lambda o: (abs(reference_time(o, now) - ref), o.provider))
    out = []
    for other in ranked[:MAX_COINCIDENT]:
        shared = sorted(mine & set(upstreams(other.provider, graph)))
        name = config.provider_name(other.provider)
        started = reference_time(other, now)
        if shared:
            link = f"both depend on {', '.join(config.provider_name(s) for s in shared)}"
        else:
            link = "no known link"
        text = (
            f"Coincident, {link}: {name} — '{quote(other.title)}', "
            f"started {clock(started, ref)}, {relative(started, ref)}"
        )
        reason = f"started within {int(COINCIDENT_WINDOW.total_seconds() // 60)} min; {link}"
        out.append(Annotation(AnnotationKind.COINCIDENT, text, reason, other.provider, other.id))
    return out


# ---- wording ---------------------------------------------------------------------


def clock(at: datetime, ref: datetime) -> str:
    """'18:05 UTC', with the date when it is not `ref`'s day."""
    at, ref = at.astimezone(UTC), ref.astimezone(UTC)
    return f"{at:%H:%M} UTC" if at.date() == ref.date() else f"{at:%b %d %H:%M} UTC"


def relative(at: datetime, ref: datetime) -> str:
    """'55 min earlier' / '1 h 5 min later' / 'at the same time', `at` relative to `ref`."""
    minutes = round((ref - at).total_seconds() / 60)
    if minutes == 0:
        return "at the same time"
    word = "earlier" if minutes > 0 else "later"
    m = abs(minutes)
    span = f"{m} min" if m < 60 else f"{m // 60} h {m % 60} min" if m % 60 else f"{m // 60} h"
    return f"{span} {word}"


def quote(text: str, limit: int = 120) -> str:
    """Feed text on one line, bounded; channels escape it for their medium."""
    flat = " ".join(text.split()).replace("'", "’")
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"

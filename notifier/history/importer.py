"""Load incidents that happened before notifier watched: a provider's own history.

Keyed on the provider's own incident identity (provider, incident id), as every live
row is: importing the same history twice, or a history that overlaps what notifier
saw live, adds nothing. The incident's fields take the newer word; its impact over
time gets the imported impact at its start only when none was recorded live.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Table, select, tuple_

from notifier.history import tables as t
from notifier.history.rows import IMPORTED, impact_row, incident_row, start_of, update_rows
from notifier.history.upsert import upsert
from notifier.models import Incident

CHUNK = 500  # incidents per statement batch


@dataclass(frozen=True, slots=True)
class Imported:
    seen: int  # distinct incidents in what was imported
    added: int  # of those, new to the database


def import_incidents(
    engine: Engine, incidents: Iterable[Incident], names: Mapping[str, str]
) -> Imported:
    """Upsert every incident (with its updates) in one transaction."""
    found = {(i.provider, i.id): i for i in incidents}
    keys = list(found)
    added = 0
    with engine.begin() as conn:
        for n in range(0, len(keys), CHUNK):
            chunk = keys[n : n + CHUNK]
            known = _present(conn, t.incidents, chunk)
            impacted = _present(conn, t.incident_impacts, chunk)
            added += len(set(chunk) - known)
            batch = [found[k] for k in chunk]
            providers = {i.provider for i in batch}
            upsert(conn, t.providers, [{"id": p, "name": names.get(p, p)} for p in providers],
                   keep=("name",))  # fmt: skip
            upsert(conn, t.incidents, [incident_row(i, IMPORTED) for i in batch],
                   keep=("source",))  # fmt: skip
            upsert(conn, t.updates, [r for i in batch for r in update_rows(i)])
            fresh = [i for i in batch if (i.provider, i.id) not in impacted]
            impacts = [impact_row(i, start) for i in fresh if (start := start_of(i))]
            upsert(conn, t.incident_impacts, impacts)
    return Imported(len(found), added)


def _present(conn: Connection, table: Table, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    if not keys:
        return set()
    q = select(table.c.provider, table.c.incident_id).where(
        tuple_(table.c.provider, table.c.incident_id).in_(keys)
    )
    return {(p, i) for p, i in conn.execute(q)}

"""Idempotent writes: insert a row, or update the one with its natural key.

Rows for one table are folded by key first (a later row's fields win), because one
statement may not touch the same row twice on PostgreSQL. Only the columns a row
carries are updated; `keep` columns keep the value first written (a first-seen time).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import Connection, Table, func
from sqlalchemy.dialects import postgresql, sqlite

Row = dict[str, Any]


def fold(rows: Iterable[Row], keys: tuple[str, ...], keep: Collection[str] = ()) -> list[Row]:
    """Rows merged by key, in first-seen order; later fields win (None never erases),
    but a `keep` column keeps its first value."""
    merged: dict[tuple[Any, ...], Row] = {}
    for row in rows:
        k = tuple(row[c] for c in keys)
        into = merged.setdefault(k, {})
        into.update({
            c: v for c, v in row.items()
            if c not in into or (v is not None and (c not in keep or into[c] is None))
        })  # fmt: skip
    return list(merged.values())


def upsert(conn: Connection, table: Table, rows: Iterable[Row], keep: Collection[str] = ()) -> int:
    """Write `rows` into `table`; returns how many distinct keys were written."""
    keys = tuple(c.name for c in table.primary_key.columns)
    folded = fold(rows, keys, keep)
    by_shape: dict[tuple[str, ...], list[Row]] = {}
    for row in folded:
        by_shape.setdefault(tuple(sorted(row)), []).append(row)
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    for shape, group in by_shape.items():
        stmt = insert(table)
        changed = {c: stmt.excluded[c] for c in shape if c not in keys and c not in keep}
        # A kept column stays as first written, unless it was never written.
        kept = {c: func.coalesce(table.c[c], stmt.excluded[c]) for c in shape if c in keep}
        if changed or kept:
            stmt = stmt.on_conflict_do_update(index_elements=list(keys),
                                              set_={**changed, **kept})  # fmt: skip
        else:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
        conn.execute(stmt, group)
    return len(folded)

"""`notifier providers` (no action): the built-in provider catalog as a table (or JSON)."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from typing import Any, TextIO

from notifier.config.catalog import Catalog, CatalogEntry, load_catalog

COLUMNS = ("ID", "NAME", "FORMAT", "SUPPORT", "UPSTREAM", "FEED")


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    stream = out or sys.stdout
    catalog = load_catalog()
    if args.json:
        stream.write(json.dumps(as_json(catalog), indent=2) + "\n")
    else:
        # On a terminal, a row never wraps: a long note or URL is cut to fit.
        width = shutil.get_terminal_size().columns if stream.isatty() else None
        stream.write(render_table(catalog, width))
    return 0


def row(entry: CatalogEntry) -> tuple[str, ...]:
    """One table row; an unsupported entry shows its note where the feed would be."""
    upstream = ",".join(dict.fromkeys(d.provider for d in entry.depends_on)) or "-"
    if entry.feed is None and entry.discover:
        return (entry.id, entry.name, "discover", entry.support, upstream, entry.status_page)
    if entry.feed is None:
        return (entry.id, entry.name, "-", entry.support, upstream, _one_line(entry.note))
    return (entry.id, entry.name, entry.feed.format, entry.support, upstream, entry.feed.url)


def render_table(catalog: Catalog, width: int | None = None) -> str:
    """Aligned columns, providers sorted by id; the last column is never padded.
    `width`: cut each line to it, ending in '…' (`--json` has everything)."""
    rows = [COLUMNS, *(row(e) for e in sorted(catalog.providers.values(), key=lambda e: e.id))]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS) - 1)]
    lines = [
        "  ".join([*(cell.ljust(w) for cell, w in zip(r, widths, strict=False)), r[-1]])
        for r in rows
    ]
    return "\n".join(_fit(line.rstrip(), width) for line in lines) + "\n"


def _fit(line: str, width: int | None) -> str:
    if width is None or len(line) <= width:
        return line
    return line[: max(1, width - 1)] + "…"


def as_json(catalog: Catalog) -> list[dict[str, Any]]:
    return [
        entry.model_dump(mode="json")
        for entry in sorted(catalog.providers.values(), key=lambda e: e.id)
    ]


def _one_line(text: str) -> str:
    return " ".join(text.split())

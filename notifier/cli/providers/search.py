"""`notifier providers search WORD`: catalog entries by id, name, alias or page address."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from notifier.cli._shared import emit_lines, json_flag
from notifier.cli.providers.listing import as_json, render_table
from notifier.config.catalog import Catalog, CatalogEntry, load_catalog
from notifier.config.suggest import closest
from notifier.text import inert_stream


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = actions.add_parser("search", help="find catalog entries by id, name or alias")
    p.add_argument("word", help="part of an id, name, alias or status page address (gh, o365)")
    json_flag(p, "entry")
    p.set_defaults(func=run)


def find(catalog: Catalog, word: str) -> list[CatalogEntry]:
    """The entries whose id, name or alias is exactly `word`; when none is, those whose id,
    name, aliases or page address contain it."""
    w = " ".join(word.lower().split())
    if not w:
        return []
    exact, partial = [], []
    for entry in sorted(catalog.providers.values(), key=lambda e: e.id):
        names = [n.lower() for n in entry.names()]
        if w in names:
            exact.append(entry)
        elif any(w in n for n in names) or w in entry.status_page.lower():
            partial.append(entry)
    return exact or partial


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    stream = inert_stream(out or sys.stdout)  # feed text: no terminal escapes
    catalog = load_catalog()
    found = find(catalog, args.word)
    if not found:
        every = {n.lower() for e in catalog.providers.values() for n in e.names()}
        near = closest(args.word.lower(), every)
        hint = f"; did you mean {near!r}?" if near else ""
        print(f"notifier providers search: nothing in the catalog matches {args.word!r}{hint} "
              "Any status page works too: `notifier providers discover https://status.vendor.com`",
              file=sys.stderr)  # fmt: skip
        return 1
    if args.json:
        emit_lines(as_json(Catalog(providers={e.id: e for e in found})), stream)
    else:
        stream.write(render_table(Catalog(providers={e.id: e for e in found})))
    return 0

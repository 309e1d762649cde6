"""`notifier providers`: the catalog, and finding, searching and checking status feeds.

`notifier providers [--json] [--watched]` lists the catalog (or the watched providers
with their effective poll intervals); the actions are one module each:
`discover URL`, `search WORD`, `check [ID…|--all]`, `components ID`.
"""

from __future__ import annotations

import argparse

from notifier.cli._shared import json_flag
from notifier.cli.providers import check, components, discover, listing, search
from notifier.cli.providers.listing import as_json, render_table, row

__all__ = ["as_json", "register", "render_table", "row"]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "providers",
        help="the status-page catalog: list, search, discover, check, components",
        description="List the built-in provider catalog: feed, format, support and upstreams. "
        "With an action: find a feed from a status page, search the catalog, check feeds live, "
        "or list a provider's components.",
    )
    json_flag(parser, "provider")
    parser.add_argument(
        "--watched",
        action="store_true",
        help="the providers of the subscription file instead: each one's effective poll "
        "interval and why, its next poll, webhook and probes (reads Redis when it is up)",
    )
    parser.set_defaults(func=listing.run)
    actions = parser.add_subparsers(dest="providers_command", metavar="ACTION")
    for module in (discover, search, check, components):
        module.register(actions)

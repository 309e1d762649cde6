"""`notifier feed parse FILE`: show what a parser reads from a saved feed document."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from notifier.cli._shared import emit
from notifier.feeds import registry
from notifier.feeds.errors import FeedError, UndetectedFormatError
from notifier.models import to_jsonable
from notifier.text import inert_stream


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    feed = subparsers.add_parser("feed", help="Work with status-feed documents.")
    actions = feed.add_subparsers(dest="feed_command", required=True, metavar="ACTION")
    parse = actions.add_parser(
        "parse", help="Parse a saved feed document and print the normalized incidents as JSON."
    )
    parse.add_argument("file", type=Path, help="The document (Atom, RSS or JSON).")
    parse.add_argument(
        "--format", default="auto", help="Parser name, or `auto` to detect it (default)."
    )
    parse.add_argument("--provider", help="Provider id to stamp on incidents (default: file stem).")
    parse.set_defaults(func=run_parse)


def run_parse(args: argparse.Namespace) -> int:
    provider = args.provider or args.file.stem
    try:
        body = args.file.read_bytes()
        document = registry.parse(body, args.format, provider)
    except OSError as exc:
        print(f"notifier feed parse: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    except UndetectedFormatError:
        known = ", ".join(sorted(registry.parsers()))
        print(f"notifier feed parse: {args.file}: could not tell the feed format; "
              f"pass --format NAME (one of: {known})", file=sys.stderr)  # fmt: skip
        return 2
    except FeedError as exc:
        print(f"notifier feed parse: {args.file}: {exc}", file=sys.stderr)
        return 2
    out = {
        "provider": provider,
        "format": document.format,
        "document_kind": document.kind.value,
        "incidents": to_jsonable(document.incidents),
    }
    if document.services:
        # A status-only feed: the states it gives; the diff makes incidents of them.
        out["services"] = to_jsonable(document.services)
    emit(out, inert_stream(sys.stdout))  # one document: one object; feed text inert
    return 0

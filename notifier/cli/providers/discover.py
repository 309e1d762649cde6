"""`notifier providers discover URL`: the platform, the feeds and the components behind a
status page's address, and a YAML snippet for the subscription file."""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import TextIO
from urllib.parse import urlsplit

from notifier.cli._shared import emit, json_flag
from notifier.cli.providers.common import fetcher
from notifier.config.catalog import load_catalog
from notifier.feeds.discover.find import Discovery, discover
from notifier.text import inert_stream

SHOWN_COMPONENTS = 40


def register(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = actions.add_parser("discover", help="find the feed behind a status page's address")
    p.add_argument("url", help="the status page, like https://status.vendor.com")
    json_flag(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    stream = inert_stream(out or sys.stdout)  # feed text: no terminal escapes
    url = args.url if "://" in args.url else f"https://{args.url}"
    if urlsplit(url).scheme not in {"http", "https"}:
        print(
            f"notifier providers discover: {args.url!r} is not an http(s) address", file=sys.stderr
        )
        return 2
    with fetcher() as f:
        found = discover(url, f)
    if args.json:
        emit(as_json(found), stream)
    else:
        stream.write(render(found))
    return 0 if found.feeds else 1


def as_json(d: Discovery) -> dict[str, object]:
    return {
        "page": d.page, "platform": d.platform or None, "requests": d.tried,
        "feeds": [{"url": f.url, "format": f.format, "how": f.how} for f in d.feeds],
        "components": list(d.components), "problems": list(d.problems),
        "yaml": snippet(d) if d.feeds else None,
    }  # fmt: skip


def render(d: Discovery) -> str:
    lines = [f"page:      {d.page}", f"platform:  {d.platform or 'not recognised'}"]
    if not d.feeds:
        lines.append(f"no feed found ({d.tried} request{'s' if d.tried != 1 else ''}).")
        lines += [f"  {p}" for p in d.problems[:8]]
        lines.append("If the page shows a feed link, give it as `feed: {url, format: auto}`.")
        return "\n".join(lines) + "\n"
    lines.append("feeds found (the first is the one polled):")
    width = max(len(f.url) for f in d.feeds)
    lines += [f"  {f.url.ljust(width)}  {f.format}  ({f.how})" for f in d.feeds]
    comps = d.components
    shown = ", ".join(comps[:SHOWN_COMPONENTS]) + (" …" if len(comps) > SHOWN_COMPONENTS else "")
    lines.append(f"components ({len(comps)}): {shown or 'none listed'}")
    lines += ["", "For your subscription file:", snippet(d)]
    return "\n".join(lines) + "\n"


def snippet(d: Discovery) -> str:
    """YAML for `providers:`: the catalog's id when the page is in the catalog, else one made
    from the host name; the page (found again when it moves), the feed pinned as a comment."""
    pid, name = _id_for(d.page)
    best = d.feeds[0]
    lines = ["providers:", f"  - id: {pid}"]
    if name:
        lines.append(f"    name: {json.dumps(name)}")
    lines.append(f"    page: {d.page}")
    lines.append(f'    # or pin the feed: feed: {{url: "{best.url}", format: {best.format}}}')
    return "\n".join(lines)


def _id_for(page: str) -> tuple[str, str]:
    host = (urlsplit(page).hostname or "").removeprefix("www.")
    for entry in load_catalog().providers.values():
        if (urlsplit(entry.status_page).hostname or "").removeprefix("www.") == host:
            return entry.id, ""
    words = [w for w in host.split(".")[:-1] if w not in {"status", "statuspage", "www"}]
    base = re.sub(r"(status|-status)$", "", words[0]) if words else "vendor"
    pid = re.sub(r"[^a-z0-9_-]+", "-", base.lower()).strip("-") or "vendor"
    return pid, pid.capitalize()

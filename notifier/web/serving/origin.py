"""Cross-site request forgery, refused: a state-changing browser request must come from
a page of this same origin.

Browsers send `Origin` with every cross-origin POST (and `Referer` unless told not to);
a form on another site that targets the console names that site and is refused, even
when the browser would attach cached basic-auth credentials to it. A request naming
no origin at all is not a browser's cross-site form (curl, a script) and stands on the
token check alone (`notifier.web.serving.auth`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request


def same_origin(request: Request) -> bool:
    host = request.headers.get("host", "")
    origin = request.headers.get("origin")
    if origin is not None:
        # "null" (sandboxed frames, file: pages) is never our own page.
        return origin != "null" and urlsplit(origin).netloc == host
    referer = request.headers.get("referer")
    if referer is not None:
        return urlsplit(referer).netloc == host
    return True

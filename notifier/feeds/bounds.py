"""Per-document limits on what a feed may hand the rest of the service.

An incident id over `MAX_ID` characters (a 500,000-character id breaks every key and
button it reaches) is cut, and a hash of the WHOLE id is appended, so two long ids
that share a beginning stay two incidents and the same id always cuts the same way:
identity survives. A title over `MAX_TITLE` characters is cut with an ellipsis.
Applied once, as every parser's document leaves `registry.parse`.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from notifier.models import FeedDocument, Incident

MAX_ID = 200
MAX_TITLE = 500
_HASH = 16  # hex digits of sha256 appended to a cut id


def bounded_id(iid: str) -> str:
    """`iid`, or its first characters + '~' + a hash of all of it: MAX_ID at most."""
    if len(iid) <= MAX_ID:
        return iid
    digest = hashlib.sha256(iid.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH]
    return f"{iid[: MAX_ID - _HASH - 1]}~{digest}"


def bounded_title(title: str) -> str:
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…"


def bounded_incident(incident: Incident) -> Incident:
    iid, title = bounded_id(incident.id), bounded_title(incident.title)
    if iid == incident.id and title == incident.title:
        return incident
    return replace(incident, id=iid, title=title)


def bounded(doc: FeedDocument) -> FeedDocument:
    """`doc` with every incident's id and title within bounds."""
    incidents = tuple(bounded_incident(i) for i in doc.incidents)
    if all(a is b for a, b in zip(incidents, doc.incidents, strict=True)):
        return doc
    return replace(doc, incidents=incidents)


__all__ = ["MAX_ID", "MAX_TITLE", "bounded", "bounded_id", "bounded_title"]

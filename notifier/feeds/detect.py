"""`auto`: tell a document's format from its content (the registry then parses it).

JSON is told by its keys, XML by its root element, generator and the marks each
provider leaves (Statuspage's `…:Incident/N` ids and `data-var` stamps, incident.io's
generator, the AWS/GCP/Azure hosts). The vendor shapes (Microsoft's posts and RSS,
Xbox, Meta) are told by each format module's own `is_*` test, on keys a quiet
document has too. Formats owned by other modules are only
detected here and then parsed through the registry by name.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element

from notifier.feeds.errors import UndetectedFormatError
from notifier.feeds.formats.meta import history_records, is_orgs
from notifier.feeds.formats.microsoft.posts import is_portal, is_post
from notifier.feeds.formats.microsoft.rss import is_microsoft_rss
from notifier.feeds.formats.microsoft.xbox import is_xbox_json, is_xbox_xml
from notifier.feeds.formats.statuspage_json import is_component_update, is_quiet_summary
from notifier.feeds.json_doc import load_json
from notifier.feeds.xml import child, children, decode_text, local, parse_xml, text

# No feed format starts with an HTML root: an optional XML declaration, comments, then
# `<!DOCTYPE html` or `<html`. Only the first bytes are looked at.
_HTML_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)[\s>]",
    re.IGNORECASE | re.DOTALL,
)


def looks_like_html(body: bytes) -> bool:
    """The body is a web page (its root is `html`), not any kind of feed."""
    return _HTML_START.match(body[:4096]) is not None


_STATUSPAGE_MARKS = ("data-var=", "THIS IS A SCHEDULED EVENT")
_STATUSPAGE_KEYS = ("incident", "incidents", "scheduled_maintenances")
_AWS_KEYS = ("event_log", "arn", "service_name")  # currentevents / data.json events
_GCP_KEYS = ("affected_products", "most_recent_update", "external_desc")


def _json_format(doc: Any) -> str | None:
    # Vendor shapes first: each is told by keys no other format has, so a quiet
    # document (no incident at all) is told as surely as a busy one.
    if is_xbox_json(doc):
        return "xbox-json"
    if is_portal(doc):
        return "microsoft-portal-json"
    if is_post(doc) or (isinstance(doc, list) and doc and all(is_post(p) for p in doc)):
        return "microsoft-posts-json"
    if is_orgs(doc):
        return "meta-orgs-json"
    if isinstance(doc, dict):
        if "page" in doc and any(
            k in doc for k in ("incident", "incidents", "scheduled_maintenances")
        ):
            return "statuspage-json"
        if is_quiet_summary(doc) or is_component_update(doc):
            return "statuspage-json"
        if "archive" in doc and "current" in doc:
            return "aws-json"
        if "active_incidents" in doc:
            return "slack-json"
        return None
    if isinstance(doc, list):
        first = doc[0] if doc and isinstance(doc[0], dict) else {}
        if (
            "event_log" in first
            or "arn" in first
            or ("service_name" in first and "summary" in first)
        ):
            return "aws-json"
        if (
            "affected_products" in first
            or "most_recent_update" in first
            or "external_desc" in first
        ):
            return "gcp-json"
        if "notes" in first and "type" in first and "services" in first:
            return "slack-json"
        if not doc:
            return None
        if history_records(doc) is not None:
            return "meta-history-json"
    return None


def _blob(root: Element) -> str:
    """Ids, links and bodies of the feed and its first items: where providers leave marks."""
    container = child(root, "channel") if local(root.tag) == "rss" else root
    if container is None:
        return ""
    items = [*children(container, "item"), *children(container, "entry")]
    parts = [text(container, "link"), text(container, "id")]
    for element in [container, *items[:5]]:
        parts += [text(element, n) for n in ("id", "guid", "link", "description", "content")]
        parts += [link.get("href", "") for link in children(element, "link")]
    return "\n".join(parts)


def _xml_format(root: Element) -> str | None:
    tag = local(root.tag)
    if is_xbox_xml(root):
        return "xbox-xml"
    if tag not in {"rss", "feed"}:
        return None
    if is_microsoft_rss(root):
        return "microsoft-rss"
    container = child(root, "channel") if tag == "rss" else root
    generator = text(container, "generator").lower() if container is not None else ""
    blob = _blob(root)
    if "incident.io" in generator:
        return "incidentio-rss"
    if ":Incident/" in blob or any(mark in blob for mark in _STATUSPAGE_MARKS):
        return "statuspage-atom" if tag == "feed" else "statuspage-rss"
    if "status.aws.amazon.com" in blob or "aws service health" in generator:
        return "aws-rss" if tag == "rss" else None
    if "status.cloud.google.com" in blob:
        return "gcp-atom" if tag == "feed" else None
    if "azure" in blob.lower() and "status" in blob.lower():
        return "azure-rss" if tag == "rss" else None
    return "atom" if tag == "feed" else "rss"


def _first_char(body: bytes) -> str:
    """The first non-blank character, reading UTF-16/32 byte-order marks (AWS serves UTF-16)."""
    if body.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
        return decode_text(body[:4096]).lstrip()[:1]
    return body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1].decode("latin-1")


def detect(body: bytes) -> str:
    """The registered format name for these bytes; `UndetectedFormatError` if none fits.

    Unreadable bytes raise the same `ParseError` subclasses the parsers raise.
    """
    if _first_char(body) in {"{", "["}:
        found = _json_format(load_json(body))
    else:
        found = _xml_format(parse_xml(body))
    if found is None:
        raise UndetectedFormatError("could not tell the feed format; set `format:` explicitly")
    return found

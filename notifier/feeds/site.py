"""A host's site: its registrable domain, the part a person registered ('example.com' of
'status.example.com', 'example.co.uk' of 'status.example.co.uk').

Discovery follows links and redirects only within the status page's own site. Without
the whole Public Suffix List this is the common rule: the last two labels, or three
when the second-level label is one of the generic ones country domains register under
('co', 'com', 'org', ... before a two-letter country code). An IP address is its own site.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or", "go"})


def site_of(host: str) -> str:
    """The registrable domain of `host` (lower case, no trailing dot)."""
    host = host.strip("[]").rstrip(".").lower()
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def same_site(url: str, site: str) -> bool:
    """Whether `url`'s host belongs to `site` (a `site_of` result)."""
    host = urlsplit(url).hostname or ""
    return bool(host) and site_of(host) == site


__all__ = ["same_site", "site_of"]

"""What the provider itself says caused an incident, from its own words.

`stated_cause(incident)` scans the title and the updates (newest first, because
causes are usually named late) against a table of keyword patterns and returns the
category with the phrase that supports it. A match inside a causal clause ("caused
by", "due to", "root cause") beats a mere mention; a negated mention ("no evidence
of an attack") does not count. Pure and deterministic.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from notifier.models import Incident

# (category, label, pattern) — order breaks ties: more specific and more actionable first.
CAUSE_PATTERNS: tuple[tuple[str, str, str], ...] = (
    (
        "upstream",
        "upstream/third-party provider",
        r"\b(upstream|third[- ]party|downstream of|cloud provider|external provider|"
        r"(?:a|our) (?:provider|vendor|partner)|service provider|infrastructure provider)\b",
    ),
    (
        "power",
        "power",
        r"\b(power (?:event|outage|loss|failure|issue|disruption|interruption)|"
        r"utility power|power supply|generator|ups units?|electrical)\b",
    ),
    (
        "dns",
        "DNS",
        r"\b(dns|name resolution|domain name system|resolver)\b",
    ),
    (
        "certificate",
        "certificate",
        r"\b(certificates?|tls cert\w*|ssl cert\w*|cert(?:ificate)? expir\w*)\b",
    ),
    (
        "security",
        "DDoS/security",
        r"\b(d?dos|denial[- ]of[- ]service|attack|malicious|security (?:incident|event)|"
        r"unauthori[sz]ed access)\b",
    ),
    (
        "network",
        "network",
        r"\b(network(?:ing)?|connectivity|fib(?:er|re) cut|packet loss|routing|bgp|"
        r"load balancer|cdn)\b",
    ),
    (
        "database",
        "database",
        r"\b(databases?|db cluster|replica(?:tion)?|primary failover|storage layer)\b",
    ),
    (
        "configuration",
        "configuration change",
        r"\b(config(?:uration)? (?:change|update|error|issue)|misconfigur\w*|"
        r"feature flag)\b",
    ),
    (
        "deployment",
        "deployment",
        r"\b(deploy(?:ment|ed)?|roll(?:ed)?[- ]?out|release|code change|rolled back|rollback)\b",
    ),
    (
        "capacity",
        "capacity",
        r"\b(capacity|high (?:load|demand|traffic)|traffic spike|surge in (?:traffic|demand)|"
        r"resource exhaustion|overload\w*|rate limit\w*)\b",
    ),
    (
        "maintenance",
        "maintenance",
        r"\b(maintenance|planned work|scheduled work)\b",
    ),
)

_COMPILED = tuple((cat, label, re.compile(p, re.IGNORECASE)) for cat, label, p in CAUSE_PATTERNS)
_CAUSAL = re.compile(
    r"(caused by|due to|root cause|result of|triggered by|stemm\w* from|attributed to|"
    r"traced (?:it |this )?to|originat\w* (?:from|in|with)|because of|related to|impacted by)",
    re.IGNORECASE,
)
_NEGATION = re.compile(r"\b(no|not|n't|without|ruled out|no evidence of)\b[^.]{0,30}$", re.I)
_SENTENCE = re.compile(r"[^.!?\n]*(?:[.!?]|$)")
CAUSAL_WINDOW = 80  # characters before a match in which a causal phrase counts


@dataclass(frozen=True, slots=True)
class StatedCause:
    category: str  # one of CAUSE_PATTERNS' categories, or "unknown"
    label: str  # human name of the category
    phrase: str  # the provider's sentence that supports it ("" for unknown)
    causal: bool  # the phrase states a cause rather than mentioning the word


UNKNOWN = StatedCause("unknown", "unknown", "", False)


# An incident's every update is scanned again at each new one: remembered, a long
# incident costs one scan per update, not per update per event.
@functools.lru_cache(maxsize=1024)
def classify_text(text: str) -> StatedCause:
    """The best-supported category in one text, or UNKNOWN."""
    best: tuple[int, int, StatedCause] | None = None
    for sentence in _SENTENCE.findall(text):
        for rank, (cat, label, pattern) in enumerate(_COMPILED):
            for m in pattern.finditer(sentence):
                before = sentence[: m.start()]
                if _NEGATION.search(before):
                    continue
                causal = bool(_CAUSAL.search(before[-CAUSAL_WINDOW:]))
                key = (0 if causal else 1, rank)
                if best is None or key < best[:2]:
                    found = StatedCause(cat, label, _clean(sentence), causal)
                    best = (*key, found)
    return best[2] if best else UNKNOWN


def stated_cause(incident: Incident) -> StatedCause:
    """Scan updates newest first; the first causal statement wins, else the newest mention."""
    texts = [u.body for u in reversed(incident.updates)] + [incident.title]
    mention: StatedCause | None = None
    for text in texts:
        found = classify_text(text)
        if found.causal:
            return found
        if mention is None and found is not UNKNOWN:
            mention = found
    return mention or UNKNOWN


def _clean(sentence: str, limit: int = 160) -> str:
    text = " ".join(sentence.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"

"""The fuzz tests' one Hypothesis profile: deterministic (derandomized, no example
database) so CI cannot flake, about 60 examples per property so the suite stays fast,
and a per-example deadline: an input that makes a parser hang fails the test."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("NOTIFIER_FUZZ_EXAMPLES", "60"))

FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=False,
)


def sample_files() -> list[Path]:
    """Real feed documents from ../shared/samples and ../shared/feeds (or
    NOTIFIER_FEED_CORPUS), a few per folder; empty when neither is present."""
    roots = [ROOT.parent / "shared" / "samples", ROOT.parent / "shared" / "feeds"]
    if os.environ.get("NOTIFIER_FEED_CORPUS"):
        roots.append(Path(os.environ["NOTIFIER_FEED_CORPUS"]))
    found: list[Path] = []
    for root in roots:
        if not root.is_dir():
            continue
        for folder in sorted({p.parent for p in root.rglob("*") if p.is_file()}):
            files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix != ".md")
            found += [p for p in files if p.stat().st_size < 2_000_000][:2]
    return found

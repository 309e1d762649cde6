"""Parse throughput per format over the real corpus documents, side by side in one run.

`run()` returns one row per format: documents/s and MB/s, each format timed over its
own corpus documents (the sidecar names the format) for about `budget_s` seconds, plus
an `auto` row over all documents to show what detection costs. Skips with an empty
list when the corpus is absent.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from pathlib import Path

import yaml

from notifier.feeds import registry

ROOT = Path(__file__).resolve().parent.parent
SIDECARS = ROOT / "tests" / "corpus"


def _corpus() -> Path | None:
    env = os.environ.get("NOTIFIER_FEED_CORPUS")
    path = Path(env) if env else ROOT.parent / "shared" / "feeds"
    return path if path.is_dir() else None


def _documents(corpus: Path) -> dict[str, list[tuple[bytes, str]]]:
    """format name -> [(body, provider)] from the sidecars."""
    by_format: dict[str, list[tuple[bytes, str]]] = defaultdict(list)
    for sidecar in sorted(SIDECARS.rglob("*.yaml")):
        doc = corpus / sidecar.relative_to(SIDECARS).as_posix().removesuffix(".yaml")
        if not doc.is_file():
            continue
        facts = yaml.safe_load(sidecar.read_text(encoding="utf-8"))
        body = doc.read_bytes()
        by_format[facts["format"]].append((body, facts["provider"]))
        by_format["auto"].append((body, facts["provider"]))
    return by_format


def _measure(fmt: str, docs: list[tuple[bytes, str]], budget_s: float) -> dict[str, object]:
    parser = registry.get_parser(fmt)
    size = sum(len(body) for body, _ in docs)
    rounds, started = 0, time.perf_counter()
    while True:
        for body, provider in docs:
            parser(body, provider)
        rounds += 1
        elapsed = time.perf_counter() - started
        if elapsed >= budget_s:
            break
    return {
        "name": f"parse {fmt}",
        "format": fmt,
        "documents": len(docs),
        "bytes_per_round": size,
        "rounds": rounds,
        "seconds": round(elapsed, 3),
        "docs_per_s": round(rounds * len(docs) / elapsed, 1),
        "mb_per_s": round(rounds * size / elapsed / 1e6, 2),
    }


def run(budget_s: float = 1.2) -> list[dict[str, object]]:
    """One row per format (and `auto`); about `budget_s` seconds each, ~15 s in all."""
    corpus = _corpus()
    if corpus is None:
        return []
    docs = _documents(corpus)
    return [_measure(fmt, docs[fmt], budget_s) for fmt in sorted(docs)]


if __name__ == "__main__":
    for row in run():
        print(
            f"{row['format']:<16} {row['documents']:>3} docs  "
            f"{row['docs_per_s']:>8} docs/s  {row['mb_per_s']:>7} MB/s"
        )

"""`notifier deps suggest` mines the history for lagged co-occurrence: B's incidents
that follow A's within 90 minutes far more often than B's base rate explains are an
edge A -> B with its evidence; an unrelated provider gives nothing; `--accept` writes
the edge into the file, and annotations then quote what was observed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from notifier.annotate.correlate import dependency_clause
from notifier.annotate.graph import upstreams
from notifier.cli import main
from notifier.config.load import load_config
from notifier.config.settings import get_settings
from notifier.history import db
from notifier.history.importer import import_incidents
from notifier.history.suggest import MIN_CO, binom_tail, load_starts, suggest
from notifier.models import Impact, Incident, IncidentKind, Status

T0 = datetime(2025, 1, 1, tzinfo=UTC)
CONFIG = """\
# my vendors
providers:
  - id: alpha
    name: Alpha Cloud
    feed: {url: "https://status.alpha.example/api/v2/summary.json", format: statuspage-json}
  - id: beta
    name: Beta AI
    feed: {url: "https://status.beta.example/api/v2/summary.json", format: statuspage-json}
    poll_interval: 60   # keep me
  - id: gamma
    name: Gamma Mail
    feed: {url: "https://status.gamma.example/api/v2/summary.json", format: statuspage-json}
subscribers:
  - name: platform
    slack: {channel: "#vendor-status"}
"""


def _inc(provider: str, n: int, at: datetime) -> Incident:
    return Incident(provider, f"{provider}{n:03d}", f"{provider} trouble {n}", None,
                    Status.RESOLVED, Impact.MAJOR, IncidentKind.INCIDENT, at, at,
                    at + timedelta(minutes=30))  # fmt: skip


def history() -> list[Incident]:
    """Ten alpha incidents a week apart; beta follows eight of them 10-45 min later and
    has two of its own; gamma's ten are days away from either."""
    out = []
    for k in range(10):
        a = T0 + timedelta(days=7 * k, hours=k)
        out.append(_inc("alpha", k, a))
        if k < 8:
            out.append(_inc("beta", k, a + timedelta(minutes=10 + 5 * k)))
        out.append(_inc("gamma", k, a + timedelta(days=3, hours=5)))
    out += [_inc("beta", 8, T0 + timedelta(days=20)), _inc("beta", 9, T0 + timedelta(days=45))]
    return out


@pytest.fixture
def env(history_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    config = tmp_path / "subscriptions.yaml"
    config.write_text(CONFIG)
    monkeypatch.setenv("NOTIFIER_DATABASE_URL", history_url)
    monkeypatch.setenv("NOTIFIER_CONFIG", str(config))
    monkeypatch.setenv("NOTIFIER_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    import_incidents(db.engine_for(history_url), history(), {})
    yield config
    get_settings.cache_clear()


def test_a_follows_b_eight_in_ten_is_an_edge_and_the_unrelated_provider_gives_none(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deps", "suggest"]) == 0
    out = capsys.readouterr().out
    assert "one-sided binomial test" in out
    assert "alpha -> beta: 8 of 10, median lag 27.5 min" in out
    assert "8 of 10 Alpha Cloud incidents were followed by a Beta AI incident within 90 min" in out
    assert "alpha/alpha000 -> beta/beta000 (+10 min)" in out
    edges = [line for line in out.splitlines() if line.startswith("  ") and " of " in line]
    assert len(edges) == 2 and "gamma" not in out  # the edge and its sentence


def test_the_evidence_states_chance_and_fewer_than_three_never_suggest(history_url: str) -> None:
    import_incidents(db.engine_for(history_url), history(), {})
    starts = load_starts(db.engine_for(history_url))
    (edge,) = suggest(starts)
    assert (edge.upstream, edge.downstream, edge.n, edge.m) == ("alpha", "beta", 8, 10)
    assert edge.p_value < 1e-6 and edge.lift > 50 and 0 < edge.chance < 0.01
    assert len(edge.pairs) == 8
    two = {"x": starts["alpha"][:2], "y": [(at + timedelta(minutes=5), "y") for at, _ in
                                          starts["alpha"][:2]]}  # fmt: skip
    assert MIN_CO == 3 and suggest(two, alpha=1.0) == []


def test_binomial_tail_matches_a_hand_computation() -> None:
    assert binom_tail(0, 5, 0.3) == 1.0
    assert binom_tail(5, 5, 0.5) == pytest.approx(1 / 32)
    assert binom_tail(2, 3, 0.5) == pytest.approx(0.5)


def test_accepting_writes_an_observed_edge_that_annotations_quote(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = env.read_text()
    assert main(["deps", "suggest", "--accept", "alpha->beta"]) == 0
    after = env.read_text()
    assert after.startswith(before.split("  - id: gamma")[0].split("    poll_interval")[0])
    assert "poll_interval: 60   # keep me" in after and "# my vendors" in after
    assert "confidence: observed" in after and "one-sided binomial test" in after
    config = load_config(env)
    path = upstreams("beta", config.dependency_graph())["alpha"]
    assert dependency_clause(config, path) == (
        "Beta AI runs on Alpha Cloud (observed: 8 of 10 Alpha Cloud incidents were followed "
        "by a Beta AI incident within 90 min)"
    )
    capsys.readouterr()
    assert main(["deps", "suggest"]) == 0
    assert "alpha -> beta: 8 of 10" in (out := capsys.readouterr().out) and "[in config]" in out
    assert main(["deps", "suggest", "--accept", "alpha->beta"]) == 2  # already there
    assert main(["deps", "suggest", "--accept", "gamma->beta"]) == 2  # not listed
    assert env.read_text() == after


def test_an_edge_the_catalog_already_has_is_marked(
    history_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    config = tmp_path / "subscriptions.yaml"
    config.write_text("providers:\n  - id: openai\n  - id: azure\n"
                      "subscribers:\n  - name: platform\n    slack: {channel: '#x'}\n")  # fmt: skip
    monkeypatch.setenv("NOTIFIER_DATABASE_URL", history_url)
    monkeypatch.setenv("NOTIFIER_CONFIG", str(config))
    get_settings.cache_clear()
    starts = [T0 + timedelta(days=9 * k) for k in range(5)]
    incidents = [_inc("azure", k, at) for k, at in enumerate(starts)]
    incidents += [_inc("openai", k, at + timedelta(minutes=20)) for k, at in enumerate(starts)]
    import_incidents(db.engine_for(history_url), incidents, {})
    try:
        assert main(["deps", "suggest"]) == 0
        out = capsys.readouterr().out
        assert main(["deps", "suggest", "--accept", "azure->openai"]) == 2
    finally:
        get_settings.cache_clear()
    assert "azure -> openai: 5 of 5" in out and "[in catalog]" in out
    assert "already in the catalog" in capsys.readouterr().err

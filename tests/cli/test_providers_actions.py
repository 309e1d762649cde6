"""`notifier providers discover|check|components` against local copies of status sites
(tests/support/status_sites.py): what each says, in plain words."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from notifier.cli import main
from notifier.cli.providers import check as check_cmd
from notifier.cli.providers import components as components_cmd
from notifier.config.catalog import Catalog, CatalogEntry, CatalogFeed
from notifier.config.settings import get_settings
from tests.support.feed_server import FeedServer, feed_server
from tests.support.status_sites import COMPONENTS, serve_sites

# Its fake feed servers listen on 127.0.0.1, which the fetch guard refuses unless allowed.
pytestmark = pytest.mark.usefixtures("local_fetches")


@pytest.fixture
def sites() -> Iterator[FeedServer]:
    with feed_server() as server:
        serve_sites(server)
        yield server


def test_discover_prints_the_platform_feeds_components_and_a_yaml_snippet(
    sites: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["providers", "discover", sites.url("/sp")]) == 0
    out = capsys.readouterr().out
    assert "platform:  statuspage" in out
    assert f"{sites.url('/sp/api/v2/summary.json')}  statuspage-json" in out
    assert "components (3): API, Dashboard, Webhooks" in out
    snippet = out.split("For your subscription file:\n")[1]
    assert f"    page: {sites.url('/sp')}" in snippet and snippet.startswith("providers:\n  - id: ")


def test_discover_says_plainly_when_no_feed_is_found(
    sites: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    sites.put("/empty", b"<!DOCTYPE html><html><body>hi</body></html>", "text/html")
    assert main(["providers", "discover", sites.url("/empty"), "--json"]) == 1
    found = json.loads(capsys.readouterr().out)
    assert found["feeds"] == [] and found["yaml"] is None and found["requests"] >= 2


def _catalog(sites: FeedServer) -> Catalog:
    entries = [
        CatalogEntry(id="acme", name="Acme", homepage=sites.url("/sp"), source="test",
                     feed=CatalogFeed(url=sites.url("/sp/api/v2/summary.json"),
                                      format="statuspage-json")),
        CatalogEntry(id="gamma", name="Gamma", homepage=sites.url("/blog"), source="test",
                     discover=True),
        CatalogEntry(id="gone", name="Gone", homepage=sites.url("/x"), source="test",
                     feed=CatalogFeed(url=sites.url("/x/history.atom"), format="statuspage-atom")),
        CatalogEntry(id="wrong", name="Wrong", homepage=sites.url("/x"), source="test",
                     feed=CatalogFeed(url=sites.url("/feeds/status.rss"),
                                      format="statuspage-atom")),
    ]  # fmt: skip
    return Catalog(providers={e.id: e for e in entries})


def test_check_reports_each_provider_in_plain_words_and_fails_when_any_does(
    sites: FeedServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(check_cmd, "load_catalog", lambda: _catalog(sites))
    assert main(["providers", "check", "--all", "--concurrency", "2"]) == 1
    lines = capsys.readouterr().out.splitlines()
    says = {line.split()[1]: line for line in lines[:-1]}
    assert (
        says["acme"].startswith("ok ")
        and "statuspage-json, 3 components, 0 open incidents" in says["acme"]
    )
    assert says["gamma"].startswith("ok ") and "rss" in says["gamma"]
    assert says["gone"].startswith("FAIL") and "HTTP status 404: not found" in says["gone"]
    assert says["wrong"].startswith("FAIL") and "unreadable" in says["wrong"]
    assert lines[-1] == "2 of 4 answered with a readable feed"


def test_check_names_an_unknown_id_and_its_closest_match(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["providers", "check", "githb"]) == 2
    assert "did you mean 'github'?" in capsys.readouterr().err


@pytest.fixture
def watching(sites: FeedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A subscription file that watches `mine` (defined in the file, on a local feed) and
    the test catalog's `acme`; the catalog is `_catalog`'s."""
    config = tmp_path / "subscriptions.yaml"
    config.write_text(
        "providers:\n"
        f"  - {{id: mine, name: Mine, feed: {{url: '{sites.url('/sp/api/v2/summary.json')}',"
        " format: statuspage-json}}\n"
        "  - id: acme\n"
        "subscribers:\n  - name: sre\n    email: {to: [sre@example.com]}\n"
    )
    monkeypatch.setenv("NOTIFIER_CONFIG", str(config))
    monkeypatch.setattr(check_cmd, "load_catalog", lambda: _catalog(sites))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_check_with_no_id_checks_the_watched_providers(
    watching: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["providers", "check", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["provider"] for r in rows] == ["mine", "acme"]
    assert all(r["ok"] and r["components"] == 3 for r in rows)


def test_check_takes_ids_of_the_file_and_goes_on_past_an_unknown_one(
    watching: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["providers", "check", "mnie", "mine", "gone"]) == 2
    out, err = capsys.readouterr()
    says = {line.split()[1]: line for line in out.splitlines()[:-1]}
    assert says["mine"].startswith("ok ") and says["gone"].startswith("FAIL")
    assert out.splitlines()[-1] == "1 of 2 answered with a readable feed; 1 unknown"
    assert err.strip() == ("notifier providers check: 'mnie' is neither in the subscription "
                           "file nor in the catalog; did you mean 'mine'?")  # fmt: skip


def test_components_lists_the_names_as_the_live_feed_spells_them(
    sites: FeedServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(components_cmd, "load_catalog", lambda: _catalog(sites))
    assert main(["providers", "components", "acme"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "# 3 components listed by acme's feed now"
    assert out[1:] == COMPONENTS


def test_component_names_with_terminal_escapes_print_inert(
    sites: FeedServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = json.loads(sites.documents["/sp/api/v2/summary.json"][0])
    doc["components"][0]["name"] = "API\x1b]0;pwned\x07\x1b[2J\u202e"
    sites.put("/sp/api/v2/summary.json", json.dumps(doc).encode())
    monkeypatch.setattr(components_cmd, "load_catalog", lambda: _catalog(sites))
    assert main(["providers", "components", "acme"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert out.splitlines()[1] == "API"

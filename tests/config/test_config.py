"""The subscription file: merging with the catalog, on-call rotations, `config check`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from notifier.channels.sms.pager import Recipients
from notifier.cli import main
from notifier.config.load import ConfigError, load_config, parse_config
from notifier.config.schema.providers import Dependency
from notifier.route import oncall
from tests.planning_helpers import config, test_catalog

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "subscriptions.example.yaml"


def test_it_merges_catalog_and_file_for_each_provider() -> None:
    cfg = config(
        """
        providers:
          - id: openai
            poll_interval: 15
            feed: {url: "https://mirror.example/openai.json"}
            depends_on: [{provider: cloudflare, regions: [EU]}]
            components: [APIs]
          - id: acme
            name: Acme Cloud
            feed: {url: "https://status.acme.example/feed", format: statuspage-json}
            depends_on: [openai]
        subscribers: [{name: ops, slack: {channel: "#ops"}}]
        """
    )
    openai, acme = cfg.resolved_providers()
    assert openai.name == "OpenAI"  # from the catalog
    assert openai.url == "https://mirror.example/openai.json"  # overridden
    assert openai.format == "statuspage-json"  # kept from the catalog
    assert openai.poll_interval == 15
    assert openai.components == ("APIs",)
    assert [d.provider for d in openai.depends_on] == ["azure", "cloudflare"]
    assert openai.depends_on[1] == Dependency("cloudflare", ("EU",), "config", "your configuration")
    assert openai.depends_on[0].source.startswith("catalog")
    assert (acme.name, acme.poll_interval) == ("Acme Cloud", 60)
    assert [d.provider for d in acme.depends_on] == ["openai"]


def test_a_webhook_url_never_shows_in_repr_or_errors() -> None:
    secret = "https://hooks.slack.com/services/T1/B2/verysecret"
    cfg = config(
        f"""
        providers: [{{id: openai}}]
        subscribers: [{{name: ops, slack: {{webhook_url: "{secret}"}}}}]
        """
    )
    assert "verysecret" not in repr(cfg)
    with pytest.raises(ConfigError) as caught:
        config(
            f"""
            providers: [{{id: openai}}]
            subscribers: [{{name: ops, slack: {{webhook_url: "{secret}", channel: "#x"}}}}]
            """
        )
    assert "verysecret" not in str(caught.value)


@pytest.mark.parametrize(
    ("now", "on_call"),
    [
        # the start date's handoff (Monday 09:00 Berlin = 08:00 UTC in winter) hands to Ana
        ("2025-01-06T08:00:00+00:00", "Ana"),
        # one minute before it, the previous week (the last member's)
        ("2025-01-06T07:59:00+00:00", "Cy"),
        # a week later it is Bo's turn
        ("2025-01-13T08:00:00+00:00", "Bo"),
        # twelve weeks on, after the spring DST change, the handoff is still 09:00
        # local, now 07:00 UTC
        ("2025-03-31T07:00:00+00:00", "Ana"),
        ("2025-03-31T06:59:00+00:00", "Cy"),
    ],
)
def test_the_rotation_hands_off_weekly_at_local_time(now: str, on_call: str) -> None:
    cfg = config(
        """
        providers: [{id: openai}]
        oncall:
          rotations:
            primary:
              members: [{name: Ana, phone: "+15550100"}, {name: Bo, phone: "+15550101"},
                        {name: Cy, phone: "+15550102"}]
              handoff: {weekday: monday, time: "09:00", timezone: Europe/Berlin}
              start: 2025-01-06
        subscribers: [{name: ops, sms: {rotation: primary}}]
        """
    )
    rotation = cfg.oncall.rotations["primary"]
    assert oncall.on_call(rotation, datetime.fromisoformat(now).astimezone(UTC)).name == on_call


@pytest.fixture
def test_catalog_for_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """`notifier config check` against the test catalog (the real one keeps growing)."""
    import notifier.cli.config_check as command

    monkeypatch.setattr(command, "CATALOG", test_catalog())


@pytest.mark.usefixtures("test_catalog_for_cli")
def test_config_check_prints_a_summary_for_a_valid_file(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = ROOT / "config" / "testdata" / "good" / "minimal.yaml"
    code = main(["config", "check", str(path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "minimal.yaml: OK" in out and "subscriber ops: slack" in out


@pytest.mark.usefixtures("test_catalog_for_cli")
def test_config_check_lists_line_numbered_errors_and_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = ROOT / "config" / "testdata" / "bad" / "typo.yaml"
    code = main(["config", "check", str(path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "typo.yaml:7: providers[0].pol_interval: unknown key" in err
    assert "2 problems" in err


@pytest.mark.usefixtures("test_catalog_for_cli")
def test_config_check_prints_warnings_visibly_and_still_exits_0(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = ROOT / "config" / "testdata" / "good" / "warn_nothing.yaml"
    code = main(["config", "check", str(path)])
    captured = capsys.readouterr()
    assert code == 0
    assert captured.err.splitlines() == [
        "warn_nothing.yaml:4: warning: providers: no providers: nothing is polled",
        "warn_nothing.yaml:5: warning: subscribers: no subscribers: changes are found but"
        " nobody is told",
    ]
    assert f"{path}: OK (2 warnings above)" in captured.out


@pytest.mark.usefixtures("test_catalog_for_cli")
def test_config_check_reports_schema_and_reference_errors_in_one_pass(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = ROOT / "config" / "testdata" / "bad" / "one_pass.yaml"
    assert main(["config", "check", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1].endswith("one_pass.yaml: 7 problems")
    assert "did you mean 'primary'?" in err[3] and "poll_interval" in err[1]


def test_config_check_reports_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "check", str(tmp_path / "nope.yaml")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_the_example_file_passes_config_check_with_the_real_catalog(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["config", "check", str(EXAMPLE)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "providers (5)" in captured.out


def test_every_example_key_is_explained_on_the_configuration_page() -> None:
    # docs/notes/*.md are the pages of changes not yet folded into configuration.md.
    pages = [ROOT / "docs" / "configuration.md", *sorted((ROOT / "docs" / "notes").glob("*.md"))]
    doc = "\n".join(p.read_text() for p in pages)
    cfg = load_config(EXAMPLE)
    keys = {"poll_interval", "depends_on", "components", "channels_filters", "quiet_hours"}
    keys |= set(type(cfg.subscribers[0]).model_fields)
    missing = sorted(k for k in keys if f"`{k}`" not in doc)
    assert not missing


WEBHOOK_FILE = """\
providers: [{id: openai}]
subscribers:
  - name: ops
    slack: {webhook_url: "%s"}
  - name: sre
    slack: {webhook_url: "%s"}
  - name: chat
    slack: {channel: "#ops"}
"""
HOOK_A = "https://hooks.slack.com/services/T1/B1/hookSecretA"
HOOK_B = "https://hooks.slack.com/services/T1/B2/hookSecretB"


@pytest.mark.usefixtures("test_catalog_for_cli")
def test_config_check_never_prints_a_webhook_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(WEBHOOK_FILE % (HOOK_A, HOOK_B))
    assert main(["config", "check", str(good)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(WEBHOOK_FILE % (HOOK_A.replace("https", "http"), HOOK_B + " x"))
    assert main(["config", "check", str(bad)]) == 1
    captured = capsys.readouterr()
    assert "subscriber ops: slack" in captured.out
    assert "bad.yaml:4: subscribers[0].slack.webhook_url: must be an https:// URL" in captured.err
    assert "bad.yaml:6: subscribers[1].slack.webhook_url: must be an https:// URL" in captured.err
    for shown in (captured.out, captured.err):
        assert "hookSecret" not in shown


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        # Slack's own form
        ("https://hooks.slack.com/services/T0/B0/abc", True),
        # plain http to another machine would send the secret in clear
        ("http://hooks.slack.com/services/T0/B0/abc", False),
        # plain http to this machine (a local relay): the secret stays on the host
        ("http://127.0.0.1:8080/services/T0/B0/abc", True),
        ("http://localhost/hook", True),
        # no scheme, no host, a bad port, whitespace, a control character
        ("hooks.slack.com/services/T0/B0/abc", False),
        ("https:///services/T0/B0/abc", False),
        ("https://hooks.slack.com:70000/x", False),
        ("https://hooks.slack.com/services/T0/B0/a bc", False),
        ("https://hooks.slack.com/services/T0/B0/abc\\a", False),  # YAML's \\a escape: a BEL
    ],
)
def test_a_webhook_url_must_be_https(url: str, ok: bool) -> None:
    text = WEBHOOK_FILE % (url, HOOK_B)
    if ok:
        config(text)
        return
    with pytest.raises(ConfigError) as caught:
        config(text)
    (error,) = caught.value.errors
    assert "subscribers[0].slack.webhook_url: must be an https:// URL" in error


def test_the_config_lists_its_secrets_for_log_redaction() -> None:
    cfg = config(WEBHOOK_FILE % (HOOK_A, HOOK_B))
    assert cfg.secret_values() == [HOOK_A, HOOK_B]
    assert "hookSecret" not in repr(cfg) and "hookSecret" not in cfg.model_dump_json()


@pytest.mark.parametrize("weekday", ["monday", "wednesday", "sunday"])
def test_the_config_rotation_and_the_pager_agree_on_who_is_on_call(weekday: str) -> None:
    cfg = config(
        f"""
        providers: [{{id: openai}}]
        oncall:
          rotations:
            primary:
              members: [{{name: Ana, phone: "+15550100"}}, {{name: Bo, phone: "+15550101"}}]
              handoff: {{weekday: {weekday}, time: "09:00", timezone: America/New_York}}
        subscribers: [{{name: ops, sms: {{rotation: primary}}}}]
        """
    )
    recipients = Recipients.of(cfg.subscriber("ops"), cfg.oncall)
    assert recipients is not None and recipients.rotation is not None
    for day in range(1, 22):  # three weeks, every day, across no DST change
        now = datetime(2025, 1, day, 15, 0, tzinfo=UTC)
        paged_first = oncall.escalation_order(recipients.rotation, now)[0]
        assert oncall.on_call(cfg.oncall.rotations["primary"], now).phone == paged_first.phone


def test_secrets_named_by_routes_are_redacted_url_by_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PD_KEY_T", "pd-routing-key-123456")
    monkeypatch.setenv("APPRISE_T", "discord://id/tok-abcdef, ntfy://topic-secret-99")
    cfg = parse_config(
        "subscribers:\n  - name: a\n    pagerduty: {routing_key_env: PD_KEY_T}\n"
        "    apprise: {urls_env: APPRISE_T}\n"
        "    webhook: {url: 'https://hooks.example.com/x?token=tok-webhook-77'}\n",
        "t.yaml",
    )
    secrets = cfg.secret_values()
    for value in ("pd-routing-key-123456", "discord://id/tok-abcdef", "ntfy://topic-secret-99",
                  "https://hooks.example.com/x?token=tok-webhook-77"):  # fmt: skip
        assert value in secrets

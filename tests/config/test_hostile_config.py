"""Hostile or mistaken subscription files get a clear error with the file and line,
never a Python exception, and never an echo of a secret pasted where a name belongs."""

from __future__ import annotations

import pytest

from notifier.config.load import check_text

KEY = "e93facc04764012d7bfb002500d5d1a6"  # made here: shaped like a PagerDuty routing key


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("a: &x [*x]\n", "s.yaml:1: a recursive alias"),
        ("providers:\n  - &p {id: x, more: *p}\n", "s.yaml:2: a recursive alias"),
        ("providers:\n  - !!python/object/apply:os.system ['id']\n",
         "s.yaml:2: the tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed"),
        ("x: !!python/name:os.system ''\n", "s.yaml:1: the tag"),
        ("x: !custom 1\n", "s.yaml:1: the tag '!custom' is not allowed"),
        ("[" * 5000 + "]" * 5000, "s.yaml:1: YAML"),  # "error" or "syntax error" (libyaml)
        ("d: 2024-13-45\n", "s.yaml:1: YAML error: a value YAML cannot read"),
    ],
)  # fmt: skip
def test_unsafe_yaml_is_a_config_error_with_the_line(text: str, said: str) -> None:
    report = check_text(text, "s.yaml")
    assert report.config is None
    assert report.errors and report.errors[0].startswith(said)


def test_an_alias_bomb_is_checked_in_linear_time() -> None:
    rows = ["a: &a [1,1,1,1,1,1,1,1,1]"]
    rows += [f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]"
             for i in range(8)]  # fmt: skip
    report = check_text("\n".join(rows) + "\n", "s.yaml")
    assert report.errors  # unknown keys, said at once rather than after 9**9 steps


@pytest.mark.parametrize(
    "route",
    [f"pagerduty: {{routing_key_env: {KEY}}}",
     "opsgenie: {api_key_env: 'eb243592-faa2-4ba2-a551-1afdf565c889'}",
     "webhook: {url: 'https://hooks.example.com/x', secret_env: 'whsec_AbCdEf0123456789XyZ'}",
     "apprise: {urls_env: 'json://hooks.example.com/abc'}"],
)  # fmt: skip
def test_a_secret_pasted_where_a_variable_name_belongs_is_never_echoed(route: str) -> None:
    report = check_text(f"subscribers:\n  - name: sre\n    {route}\n", "s.yaml")
    (error,) = report.errors
    assert error.startswith("s.yaml:3: subscribers[0].")
    assert "this looks like a secret, not a variable name" in error
    value = route.split(": ", 2)[-1].strip("}'{ ")
    assert value not in error and value[:8] not in error


def test_a_probe_header_and_a_webhook_token_variable_are_checked_the_same_way() -> None:
    text = (
        "providers:\n  - id: openai\n"
        f"    webhook_token_env: {KEY}\n"
        "    probes:\n      - url: https://api.openai.com/v1/models\n"
        f"        header: {{name: Authorization, value_env: {KEY}}}\n"
    )
    report = check_text(text, "s.yaml")
    assert len(report.errors) == 2 and all("looks like a secret" in e for e in report.errors)
    assert not any(KEY[:8] in e for e in report.errors)


def test_a_real_variable_name_passes() -> None:
    report = check_text(
        "subscribers:\n  - name: sre\n    pagerduty: {routing_key_env: PD_ROUTING_KEY_2}\n",
        "s.yaml",
    )
    assert report.errors == []

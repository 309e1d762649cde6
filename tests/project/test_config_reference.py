"""The configuration reference is generated from the models, so every setting and every key
of the subscription file needs a description, and each one is on the page."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from notifier.config.schema import Config
from notifier.config.settings import Settings
from tests.project.docs_hooks import load_hook

ROOT = Path(__file__).resolve().parents[2]
hook = load_hook("config_reference")


def models_under(model: type[BaseModel]) -> set[type[BaseModel]]:
    """Every model a field of `model` can hold, found independently of the hook's walk."""
    found: set[type[BaseModel]] = set()
    todo = [model]
    while todo:
        m = todo.pop()
        if m in found:
            continue
        found.add(m)
        for f in m.model_fields.values():
            todo += [c for c in _classes(f.annotation) if issubclass(c, BaseModel)]
    return found


def _classes(annotation: object) -> list[type]:
    if isinstance(annotation, type):
        return [annotation]
    return [c for a in getattr(annotation, "__args__", ()) for c in _classes(a)]


def test_every_setting_and_key_has_a_description() -> None:
    missing = [f"Settings.{n}" for n, f in Settings.model_fields.items() if not f.description]
    for model in models_under(Config):
        missing += [f"{model.__name__}.{n}" for n, f in model.model_fields.items()
                    if not f.description]  # fmt: skip
    assert missing == []


def test_every_setting_is_on_the_page_with_its_description() -> None:
    page = hook.render_settings()
    for name, field in Settings.model_fields.items():
        start = f"| `NOTIFIER_{name.upper()}` |"
        row = next((r for r in page.splitlines() if r.startswith(start)), None)
        assert row is not None, name
        assert hook.cell(field.description) in row


def test_every_key_of_the_subscription_file_is_on_the_page() -> None:
    page = hook.render_subscriptions()
    # One section per model, each with a row per field carrying its description.
    parts = re.split(r"^### ", page, flags=re.MULTILINE)[1:]
    by_anchor = {re.search(r"\{ #([\w-]+) \}", p).group(1): p for p in parts}  # type: ignore[union-attr]
    for model in models_under(Config):
        section = by_anchor[hook.anchor(model)]
        for name, field in model.model_fields.items():
            row = next((r for r in section.splitlines() if r.startswith(f"| `{name}` |")), None)
            assert row is not None, f"{model.__name__}.{name}"
            assert hook.cell(field.description) in row


def test_it_renders_type_default_and_path() -> None:
    page = hook.render_subscriptions()
    assert "### `subscribers[].quiet_hours` { #schema-quiethours }" in page
    assert "| `mode` | one of `hold`, `suppress` | `hold` |" in page
    assert "| `phone` | E.164 phone number | **required** |" in page
    assert "| `poll_interval` | integer | unset (at least 1) |" in page
    settings = hook.render_settings()
    assert "| `NOTIFIER_SMTP_PORT` | integer | `587` |" in settings
    assert "| `NOTIFIER_SMTP_PASSWORD` | string (secret, never printed) | unset |" in settings


def test_the_reference_page_asks_for_both_tables() -> None:
    page = (ROOT / "docs" / "config-reference.md").read_text()
    expanded = hook.on_page_markdown(page)
    assert "<!-- config-reference" not in expanded
    assert "NOTIFIER_REDIS_URL" in expanded and "`subscribers[].slack`" in expanded


def test_the_committed_page_is_what_the_models_say() -> None:
    page = (ROOT / "docs" / "config-reference.md").read_text(encoding="utf-8")
    assert "| `NOTIFIER_REDIS_URL` |" in page, "the tables are not in the committed page"
    assert hook.regenerate(page) == page, (
        "docs/config-reference.md is stale: run `python docs/hooks/config_reference.py`"
    )

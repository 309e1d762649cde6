"""Logging setup: plain or JSON lines, with ids carried as fields and secrets scrubbed.

Call sites pass ids through `extra={"provider": ..., "incident_id": ...}`. The
redaction filter is a last line of defence: secrets should never reach a log call,
but third-party libraries (HTTP clients at DEBUG) may echo headers.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import quote, quote_plus

CONTEXT_FIELDS = ("provider", "incident_id", "event_id", "dedup_key", "channel", "subscriber")


REDACTED = "**********"


def spellings(secret: str) -> list[str]:
    """`secret` as it may appear in text: as is, and percent-encoded (in a URL, a form
    or a query string), longest first so a longer spelling is replaced whole."""
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret)}
    return sorted(forms, key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every spelling of every secret replaced."""
    for secret in secrets:
        if secret:
            for form in spellings(secret):
                text = text.replace(form, REDACTED)
    return text


class RedactSecrets(logging.Filter):
    """Scrubs secrets from a record's message AND its traceback: a formatter prints
    `exc_text` (the formatted exception) as is, and an exception's text may hold a URL
    with a key in it, percent-encoded or not."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 6]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        scrubbed = scrub(message, self.secrets)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            # A formatter prints exc_text when it is set, rather than formatting anew.
            record.exc_text = scrub(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info, self.secrets)
        return True


class QuietRoutine(logging.Filter):
    """Drops the framework's INFO lines about routine tasks (a sweep every second
    would write three lines a second); their warnings and errors still pass."""

    def __init__(self, names: Iterable[str]) -> None:
        super().__init__()
        self.names = tuple(names)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING or not record.name.startswith("celery"):
            return True
        message = record.getMessage()
        return not any(name in message for name in self.names)


# Per-task and per-request chatter: Celery's "Task ... received / succeeded" and its
# beat's "Sending due task" (one of each per poll: three lines a second for two
# providers at 1 s), and each HTTP client's request line. At INFO the log is the story
# (polls that changed something, alerts sent, failures and recoveries); these are
# DEBUG detail.
CHATTER = (
    "celery.worker.strategy",
    "celery.app.trace",
    "celery.beat",
    "httpx",
    "httpcore",
    "urllib3",
    "slack_sdk",
    "twilio",
    # Its set-up at every start of `notifier run` (nine lines: plugins, "Context impl
    # SQLiteImpl"); a migration's "Running upgrade" lines stay.
    "alembic",
)
_BEAT_ROUTINE = "Scheduler: Sending due task"
_MIGRATION = "Running upgrade"


class DemoteChatter(logging.Filter):
    """Turns the INFO lines of `CHATTER` loggers into DEBUG records: they show only
    when the configured level is DEBUG. celery.beat keeps its start/stop lines, alembic
    the migrations it runs."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not record.name.startswith(CHATTER):
            return True
        if record.name == "celery.beat" and not record.getMessage().startswith(_BEAT_ROUTINE):
            return True
        if record.name.startswith("alembic") and record.getMessage().startswith(_MIGRATION):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return self.level <= logging.DEBUG


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                payload[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            payload["error"] = record.exc_info[0].__name__
        return json.dumps(payload, ensure_ascii=False)


class PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        ids = " ".join(f"{n}={getattr(record, n)}" for n in CONTEXT_FIELDS if hasattr(record, n))
        return f"{base} {ids}" if ids else base


def configure(
    level: str = "INFO",
    json_lines: bool = False,
    secrets: Iterable[str] = (),
    quiet: Iterable[str] = (),
) -> None:
    """`quiet`: task and schedule names whose routine INFO lines are dropped."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactSecrets(secrets))
    if quiet:
        handler.addFilter(QuietRoutine(quiet))
    handler.addFilter(DemoteChatter(logging.getLevelNamesMapping().get(level.upper(), 20)))
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(PlainFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # These echo request headers (tokens, basic auth) at DEBUG.
    for noisy in ("twilio.http_client", "httpx", "httpcore", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.INFO, root.level))


def add_secrets(secrets: Iterable[str]) -> None:
    """Scrub these too, from now on (a reloaded subscription file's webhook URLs)."""
    for handler in logging.getLogger().handlers:
        for f in handler.filters:
            if isinstance(f, RedactSecrets):
                f.secrets.extend(s for s in secrets if len(s) >= 6 and s not in f.secrets)

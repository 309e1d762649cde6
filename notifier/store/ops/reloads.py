"""Reloading the subscription file without a restart: one record in Redis that every
process of the service reads (Prometheus' and Alertmanager's reload, made to work
across processes and machines).

`request` validates the file first. A good file bumps the generation; each worker and
beat notices the new generation with one cheap read (`notifier.pipeline.runtime.process`),
loads the file itself and uses it for the tasks it starts from then on, while tasks
already running finish under the config they began with. A broken file changes
nothing but the record of the attempt: the old config stays in force everywhere, and
`notifier status`, `/metrics` and the log say why.

Key: <prefix>:config (hash): generation, hash (of the file loaded last), loaded_at,
reload_at, reload_ok ("1"/"0"), reload_error.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import redis

from notifier.config.load import ConfigError, load_config, unreadable
from notifier.config.schema import Config
from notifier.models import iso, parse_iso
from notifier.store.conn.batch import text

log = logging.getLogger(__name__)

ERROR_MAX = 2000


def file_hash(data: bytes) -> str:
    """The short hash a config is known by in `/metrics` and `notifier status`."""
    return hashlib.sha256(data).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Loaded:
    """A subscription file, parsed, with the hash of the bytes it was parsed from."""

    config: Config
    hash: str


def load_hashed(path: Path) -> Loaded:
    """Read `path` once, hash those bytes and parse the same file; raises ConfigError."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError([unreadable(path, exc)]) from None
    return Loaded(load_config(path), file_hash(data))


@dataclass(frozen=True, slots=True)
class ReloadState:
    generation: int
    hash: str
    loaded_at: datetime | None
    reload_at: datetime | None
    reload_ok: bool | None  # None: never reloaded
    reload_error: str


@dataclass(frozen=True, slots=True)
class ReloadResult:
    ok: bool
    hash: str
    generation: int
    error: str = ""


class ConfigReloads:
    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.r, self.key = client, f"{prefix}:config"

    def started(self, config_hash: str, now: datetime) -> None:
        """The service started on the file hashed `config_hash` (generation kept: the
        processes compare generations, which only a reload moves on)."""
        self.r.hset(self.key, mapping={"hash": config_hash, "loaded_at": iso(now) or ""})
        self.r.hsetnx(self.key, "generation", 0)

    def request(self, path: Path, now: datetime) -> ReloadResult:
        """Validate `path`; if it is good, make it the config every process loads next.
        The outcome is logged either way (SIGHUP and `POST /-/reload` both land here)."""
        try:
            loaded = load_hashed(path)
        except ConfigError as exc:
            error = str(exc)[:ERROR_MAX]
            log.error("config reload failed; the config in force stays:\n%s", error)
            self.r.hset(self.key, mapping={"reload_at": iso(now) or "", "reload_ok": "0",
                                           "reload_error": error})  # fmt: skip
            state = self.state()
            return ReloadResult(False, state.hash, state.generation, error)
        pipe = self.r.pipeline()  # MULTI: the hash and its generation move together
        pipe.hincrby(self.key, "generation", 1)
        pipe.hset(self.key, mapping={"hash": loaded.hash, "loaded_at": iso(now) or "",
                                     "reload_at": iso(now) or "", "reload_ok": "1",
                                     "reload_error": ""})  # fmt: skip
        generation = int(pipe.execute()[0])
        log.info("config reload: %s is valid (%s); every process loads it for its next "
                 "task (generation %d)", path, loaded.hash, generation)  # fmt: skip
        return ReloadResult(True, loaded.hash, generation)

    def generation(self) -> int:
        """The current generation: one HGET, cheap enough to ask before a task."""
        value = self.r.hget(self.key, "generation")
        return int(value) if value else 0

    def state(self) -> ReloadState:
        raw = {text(k): text(v) for k, v in self.r.hgetall(self.key).items()}
        return parse_state(raw)


def parse_state(raw: dict[str, str]) -> ReloadState:
    ok = raw.get("reload_ok")
    return ReloadState(
        generation=int(raw.get("generation") or 0),
        hash=raw.get("hash", ""),
        loaded_at=parse_iso(raw.get("loaded_at") or None),
        reload_at=parse_iso(raw.get("reload_at") or None),
        reload_ok=None if ok is None else ok == "1",
        reload_error=raw.get("reload_error", ""),
    )

"""The pipeline as stages, shared by every harness (Celery, the embedded default,
`notifier replay`): `ingest/` -> `plan/` -> `delivery/`, handed on by the one `handoff`,
wired by `runtime/`, plus the `sweeps`, the history drain and replay.

May import every package below it; never `cli`, `web` or `workers`.
"""

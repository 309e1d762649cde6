"""The stages as plain functions: poll -> plan -> deliver, the digest and replay,
shared by every harness (Celery, the embedded default, `notifier replay`).

May import every package below it; never `cli`, `web` or `workers`.
"""

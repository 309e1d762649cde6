"""Celery harness: the app, its schedule, and thin tasks that call notifier.pipeline."""

"""Configuration: settings from the environment, the subscription file's schema and
its line-numbered loading, and the built-in provider catalog.

May import only `notifier.models` and `notifier.safeurl`.
"""

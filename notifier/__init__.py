"""notifier: tells SRE teams about their vendors' outages first, with the likely upstream cause."""

__version__ = "0.1.0"

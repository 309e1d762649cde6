"""Benchmarks: `make bench` runs every `bench/bench_*.py` module's `run()`.

Each `run()` returns rows (dicts). Comparisons are measured side by side in the
same run, because these machines are noisy: a ratio to a baseline taken seconds
apart is worth more than an absolute figure from another day.
"""

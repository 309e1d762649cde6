"""Everything the service keeps in Redis: snapshots, dedup claims, threads, the
delivery log, due work, retries, pauses, metrics; and how to reach that Redis.

May import only `config` and the models.
"""

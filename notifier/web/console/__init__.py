"""The read-only web console: Now, Timeline, Incident, Subscriptions and Feeds pages,
and the self-contained replay report. Reads Redis and the loaded config; writes nothing."""

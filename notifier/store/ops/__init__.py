"""What operating the service keeps: heartbeats, metrics, config reloads, silences and the
quarantine.
"""

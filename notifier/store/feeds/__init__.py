"""What polling keeps: each provider's snapshot and health, events, the poll cadence, queued
webhook pushes, probe streaks and discovered feeds.
"""

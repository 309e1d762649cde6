"""The HTTP harness: the Twilio SMS webhook (page acks), /healthz and /metrics.

May import `pipeline` and everything below it; never `cli` or `workers`.
"""

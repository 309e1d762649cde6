"""The HTTP harness: the Twilio SMS webhook (page acks), /healthz, /metrics and the
read-only web console (`console/`, the timeline renderer `timeline`).

May import `pipeline` and everything below it; never `cli` or `workers`.
"""

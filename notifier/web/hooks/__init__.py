"""Inbound webhooks: Statuspage pushes, Slack's Acknowledge button, Twilio SMS replies and
`POST /-/reload`.
"""

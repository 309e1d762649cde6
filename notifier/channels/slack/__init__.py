"""Slack: the Web API (threads) or an incoming webhook, with Block Kit rendering."""

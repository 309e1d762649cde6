"""Opsgenie, through its Alerts API: create on open, close on resolution."""

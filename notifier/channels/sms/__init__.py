"""SMS through Twilio: GSM-7 fitting, pages with ack codes, escalation and the
per-number rate cap.
"""

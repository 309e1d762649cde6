"""A generic webhook: the alert as documented JSON, signed with HMAC-SHA256."""

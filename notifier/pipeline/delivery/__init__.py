"""Getting it out: deliver one alert, the retry policy, destinations, the digest and the
quarantine policy.
"""

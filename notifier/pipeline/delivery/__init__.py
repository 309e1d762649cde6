"""Getting it out: the delivery stage (`stage`: one alert or a chunk), its gates, the
in-flight lookup, the attempt itself, concurrent sends, the retry policy, quarantine, the
release sweeps and the digest.
"""

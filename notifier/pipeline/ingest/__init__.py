"""Getting the news: poll, webhook pushes, the adaptive cadence, probes, final-words lookups
and the re-baseline after Redis lost its data.
"""

"""Getting the news: the ingest stage (`stage`: poll, probe, final lookups; `tick`: webhook
pushes and the adaptive cadence) and the re-baseline after Redis lost its data.
"""

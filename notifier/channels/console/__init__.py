"""The console channel: alerts printed as readable blocks when no vendor is configured."""

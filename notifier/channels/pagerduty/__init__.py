"""PagerDuty, through its Events API v2: trigger on open, resolve on resolution."""

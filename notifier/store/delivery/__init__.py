"""What delivery keeps: alert claims, the delivery log, threads, follow-up batches, vendor
pauses, retries and work due later.
"""

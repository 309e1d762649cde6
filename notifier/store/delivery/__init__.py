"""What delivery keeps: alert claims, the delivery log, threads, follow-up batches, vendor
pauses, retries, work due later, and SMS pages (who was paged, the ack, what was sent).
"""

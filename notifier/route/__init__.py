"""Who hears about an event, where and when: subscription matching, threads and
cascade grouping, on-call rotations, quiet hours.

May import `annotate` and what lies below it.
"""

"""The diff: what changed between what we knew of a provider and the document just
fetched (pure), and the feed's own health.

May import `feeds`, `store`, `config` and the models.
"""

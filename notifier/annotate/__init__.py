"""Annotations: the dependency graph, correlation with other providers' incidents,
and what a provider says caused its incident. Computed once per event.

May import `diff`, `feeds`, `store`, `config` and the models.
"""

"""Outbound channels: the one `Channel` contract (`base`) and one sub-package per
vendor. Only a channel knows its own name.

May import `route` and what lies below it; never `pipeline`.
"""

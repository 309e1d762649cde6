"""The process: what it loads once, supervision of its children, the health decision and the
start banner.
"""

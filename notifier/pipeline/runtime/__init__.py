"""The process: the wiring every stage runs on (`wiring.Runtime`), the due sets, what it
loads once, supervision of its children, the health decision and the start banner.
"""

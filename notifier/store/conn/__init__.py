"""How to reach the service's Redis, batched round trips, and the generation marker that tells
when Redis lost its data.
"""

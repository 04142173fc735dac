"""A seeded synthetic platform: benign users with hard negatives, and planted Hydra networks.

Used by ``hydrascope generate``, the demo, the tests and the benchmarks. Every random step
draws from one ``numpy.random.Generator`` seeded by the caller.
"""

from worlds.world import NetworkSpec, WorldParams, generate_world

__all__ = ["NetworkSpec", "WorldParams", "generate_world"]

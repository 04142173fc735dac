"""Build the synthetic world: accounts, payment methods, requests and the ground truth.

Benign accounts include the hard negatives of real platforms (``worlds.population``); planted
networks come in styles with different camouflage (``worlds.networks``, :data:`DEFAULT_NETWORKS`).
"""

from __future__ import annotations

from worlds.builder import DEFAULT_NETWORKS, Builder, NetworkSpec, World, WorldParams
from worlds.networks import STYLE_BUILDERS, STYLES
from worlds.population import populate

__all__ = [
    "DEFAULT_NETWORKS",
    "STYLES",
    "NetworkSpec",
    "World",
    "WorldParams",
    "generate_world",
    "scaled_networks",
]


def generate_world(params: WorldParams | None = None) -> World:
    """Build a world; the same params (seed included) give the same world."""
    p = params or WorldParams()
    b = Builder(p)
    populate(b)
    for spec in p.networks:
        if spec.style not in STYLE_BUILDERS:
            raise ValueError(f"unknown network style {spec.style!r}; choose from {sorted(STYLES)}")
        STYLE_BUILDERS[spec.style](b, spec)
    return b.w


def scaled_networks(copies: int, scale: float = 1.0) -> tuple[NetworkSpec, ...]:
    """``copies`` of every default style, sizes multiplied by ``scale`` (for big worlds)."""
    out = []
    for c in range(copies):
        for s in DEFAULT_NETWORKS:
            name = s.name if copies == 1 else f"{s.name}_{c:03d}"
            out.append(NetworkSpec(name, s.style, max(6, int(s.size * scale))))
    return tuple(out)

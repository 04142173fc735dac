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


#: The adaptive networks of a realistic world, beside smaller copies of the loud ones.
REALISTIC_NETWORKS: tuple[NetworkSpec, ...] = (
    NetworkSpec("cardfarm", "cardfarm", 120),
    NetworkSpec("resiproxy", "resiproxy", 250),
    NetworkSpec("regrowth", "regrowth", 150),
    NetworkSpec("sleeper", "sleeper", 60),
    NetworkSpec("fakeorg", "fakeorg", 50),
    NetworkSpec("smallring", "smallring", 12),
    NetworkSpec("pairedcards", "pairedcards", 120),
    NetworkSpec("quietring", "quietring", 14),
    NetworkSpec("burnchurn", "burnchurn", 200),
    NetworkSpec("reseller", "reseller", 80),
    NetworkSpec("trickle", "trickle", 100),
)
#: World kinds ``hydrascope generate --kind`` offers.
KINDS = ("classic", "realistic")


def realistic_params(
    seed: int = 7,
    n_benign: int = 10_000,
    styles: tuple[str, ...] | None = None,
    scale: float = 1.0,
) -> WorldParams:
    """A world as real traffic has it: most benign prompts are one-off prose, look-alikes
    (households, NATs, companies, research labs, workshops, agent-framework users, cron jobs)
    outnumber the networks, and the networks adapt. ``styles`` keeps only those network
    styles; ``scale`` multiplies their sizes."""
    nets = tuple(
        NetworkSpec(s.name, s.style, max(6, int(s.size * scale)))
        for s in REALISTIC_NETWORKS
        if styles is None or s.style in styles
    )
    return WorldParams(
        n_benign=n_benign,
        days=28,
        seed=seed,
        networks=nets,
        mean_requests=20.0,
        public_template_share=0.05,
        cron_share=0.002,
        prompts="realistic",
        unique_share=0.95,
        research_share=0.012,
        workshop_share=0.015,
        agent_framework_share=0.02,
    )

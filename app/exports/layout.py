"""A cluster's relationship graph laid out on the server (python-igraph), for the console's
SVG and the report's picture: one layout, so the two never disagree.

Detection stores only a cluster's strongest pairwise edges (200), which on a big card farm
draws as dozens of disconnected islands. The layout therefore adds the cluster's evidence
values (its top shared cards, devices, IPs, templates...) as hub nodes linked to every shown
member that holds them: the network's real shape (many accounts around a few cards) reads
at once, and the islands join up.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Sequence
from typing import Any, Literal

import igraph as ig
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from app.clusters import repository as clusters_repo
from app.clusters import service as clusters
from app.clusters.schemas import GraphBounds
from app.core.errors import NotFound, quoted
from app.exports.evidence import member_values
from graph.types import Kind

#: the drawing's coordinate box (0..EXTENT on both axes)
EXTENT = 1000.0
_RNG_LOCK = threading.Lock()  # igraph's random generator is process-wide


class LayoutNode(BaseModel):
    id: str = Field(description="Account id, or `value:N` for a shared-value hub")
    type: Literal["member", "value"]
    x: float
    y: float
    family: str | None = Field(
        description="Members: the evidence family carrying most of their link weight; "
        "hubs: the value's family"
    )
    strength: float | None = Field(None, description="Members: link strength in the cluster")
    kind: str | None = Field(None, description="Hubs: what the value is (card, ip, device...)")
    label: str | None = Field(
        None, description="Hubs: the value (null when your role may not see it)"
    )
    members: int | None = Field(None, description="Hubs: members of the cluster holding it")


class LayoutEdge(BaseModel):
    source: str
    target: str
    weight: float
    family: str | None = Field(description="The family with the largest share of the edge")


class ClusterLayout(BaseModel):
    cluster_id: str
    run_id: str
    extent: float = Field(description="Coordinates lie in 0..extent on both axes")
    nodes: list[LayoutNode]
    edges: list[LayoutEdge]
    bounds: GraphBounds


def positions(
    n: int, edges: Sequence[tuple[int, int, float]], *, seed: int = 1
) -> list[tuple[float, float]]:
    """Deterministic positions in [0, 1] x [0, 1] for nodes 0..n-1 linked by weighted
    ``edges``: each connected component by Fruchterman-Reingold, the components packed in
    rows, biggest first, each in a square whose side grows with the root of its size."""
    if n == 0:
        return []
    g = ig.Graph(n=n, edges=[(a, b) for a, b, _ in edges])
    g.es["weight"] = [max(float(w), 1e-3) for _, _, w in edges]
    comps = sorted(g.connected_components(), key=lambda c: (-len(c), c[0]))
    sides = [math.sqrt(len(c)) for c in comps]
    row_width = max(sides[0], math.sqrt(sum(s * s for s in sides)) * 1.2)
    out: list[tuple[float, float]] = [(0.0, 0.0)] * n
    x = y = row_h = 0.0
    with _RNG_LOCK:
        ig.set_random_number_generator(random.Random(seed))
        try:
            for comp, side in zip(comps, sides, strict=True):
                if x > 0 and x + side > row_width:
                    x, y, row_h = 0.0, y + row_h, 0.0
                sub = g.subgraph(comp)
                if len(comp) == 1:
                    coords = [(0.5, 0.5)]
                else:
                    raw = sub.layout_fruchterman_reingold(weights="weight", niter=300).coords
                    coords = _unit(raw)
                pad = 0.1 * side if len(comp) > 1 else 0.0
                for v, (cx, cy) in zip(comp, coords, strict=True):
                    out[v] = (x + pad + cx * (side - 2 * pad), y + pad + cy * (side - 2 * pad))
                x += side
                row_h = max(row_h, side)
        finally:
            ig.set_random_number_generator(random)
    return _unit(out)


def _unit(coords: Sequence[Sequence[float]]) -> list[tuple[float, float]]:
    """Scale into [0, 1] keeping the aspect ratio (centred on the short axis)."""
    xs = [c[0] for c in coords]
    ys = [c[1] for c in coords]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    ox = (span - (max(xs) - min(xs))) / 2
    oy = (span - (max(ys) - min(ys))) / 2
    return [((c[0] - min(xs) + ox) / span, (c[1] - min(ys) + oy) / span) for c in coords]


def _top_family(families: dict[str, Any]) -> str | None:
    weights = {
        f: (w.get("weight", 0.0) if isinstance(w, dict) else float(w))
        for f, w in (families or {}).items()
    }
    return max(sorted(weights), key=lambda f: weights[f]) if weights else None


def cluster_layout(
    session: Session, cluster_id: str, *, max_nodes: int, personal: bool
) -> ClusterLayout:
    row = clusters_repo.cluster_with_snapshot(session, cluster_id)
    if row is None:
        raise NotFound(f"no cluster {quoted(cluster_id)}")
    explanation = row["explanation"] if personal else clusters.redact(row["explanation"])
    shown = clusters.graph(session, cluster_id, max_nodes)
    ids = [n.id for n in shown.nodes]
    # member colour: the family with most weight over the member's shown edges
    fam_weight: dict[str, dict[str, float]] = {a: {} for a in ids}
    for e in shown.edges:
        for a in (e.source, e.target):
            for fam, w in e.families.items():
                weight = w.get("weight", 0.0) if isinstance(w, dict) else float(w)
                fam_weight[a][fam] = fam_weight[a].get(fam, 0.0) + weight
    # hubs: the explanation's evidence values held by two or more shown members
    wanted: dict[tuple[int, int], tuple[str, dict[str, Any]]] = {}
    for family, values in (explanation.get("evidence") or {}).items():
        for v in values:
            kind = Kind.__members__.get(str(v.get("kind", "")).upper())
            if kind is not None and v.get("value_key") is not None:
                wanted[(int(kind), int(v["value_key"]))] = (family, v)
    held = member_values(session, ids, set(wanted)) if wanted else {}
    holders: dict[tuple[int, int], list[str]] = {}
    for a in ids:
        for key in sorted(held.get(a, ())):
            holders.setdefault(key, []).append(a)
    hubs = [(key, members) for key, members in holders.items() if len(members) >= 2]
    for key, members in hubs:  # a member tied only through hubs takes their family
        for a in members:
            if not fam_weight[a]:
                fam_weight[a][wanted[key][0]] = 0.0
    index = {a: i for i, a in enumerate(ids)}
    hub_ids = [f"value:{i}" for i in range(len(hubs))]
    for i, h in enumerate(hub_ids):
        index[h] = len(ids) + i
    pairs = [(index[e.source], index[e.target], e.weight) for e in shown.edges]
    for h, (key, members) in zip(hub_ids, hubs, strict=True):
        w = float(wanted[key][1].get("weight") or 0.5)
        pairs += [(index[h], index[a], w) for a in members]
    xy = positions(len(index), pairs)
    nodes = [
        LayoutNode(
            id=n.id,
            type="member",
            x=round(xy[index[n.id]][0] * EXTENT, 1),
            y=round(xy[index[n.id]][1] * EXTENT, 1),
            family=_top_family(fam_weight[n.id]),
            strength=n.strength,
        )
        for n in shown.nodes
    ]
    edges = [
        LayoutEdge(
            source=e.source, target=e.target, weight=e.weight, family=_top_family(e.families)
        )
        for e in shown.edges
    ]
    for h, (key, members) in zip(hub_ids, hubs, strict=True):
        family, v = wanted[key]
        nodes.append(
            LayoutNode(
                id=h,
                type="value",
                x=round(xy[index[h]][0] * EXTENT, 1),
                y=round(xy[index[h]][1] * EXTENT, 1),
                family=family,
                kind=str(v["kind"]),
                label=v.get("value"),
                members=len(members),
            )
        )
        w = round(float(v.get("weight") or 0.0), 4)
        edges += [LayoutEdge(source=a, target=h, weight=w, family=family) for a in members]
    return ClusterLayout(
        cluster_id=cluster_id,
        run_id=shown.run_id,
        extent=EXTENT,
        nodes=nodes,
        edges=edges,
        bounds=shown.bounds,
    )

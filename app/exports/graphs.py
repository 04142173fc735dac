"""GraphML and GEXF: the cluster graph with node and edge attributes (networkx writers,
which Gephi, Cytoscape and networkx itself read)."""

from __future__ import annotations

import io

import networkx as nx
import orjson

from app.exports.evidence import Evidence

FAMILIES = ("payment", "network", "timing", "prompts", "identity")


def to_networkx(ev: Evidence) -> nx.Graph:
    g = nx.Graph(
        cluster=ev.cluster["id"],
        score=float(ev.cluster["score"]),
        summary=ev.cluster["summary"],
        run=ev.run["id"],
        export_id=ev.export_id,
        redaction=ev.redaction,
    )
    for m in ev.members:
        g.add_node(
            m["account"],
            strength=float(m["strength"]),
            requests=int(m["requests"]),
            signed_up=m["signed_up"] or "",
            country=m["country"] or "",
        )
    for e in ev.edges:
        fams = e["families"]
        attrs: dict[str, float | str] = {
            "weight": float(e["weight"]),
            "families": ",".join(sorted(fams)),
            "shared_values": orjson.dumps(e["shared"]).decode(),
            "shared_count": len(e["shared"]),
        }
        for fam in FAMILIES:  # one numeric column per family, 0 when absent (Gephi filters)
            attrs[f"w_{fam}"] = float(fams.get(fam, 0.0))
        g.add_edge(e["source"], e["target"], **attrs)
    return g


def graphml(ev: Evidence) -> bytes:
    buf = io.BytesIO()
    nx.write_graphml(to_networkx(ev), buf)
    return buf.getvalue()


def gexf(ev: Evidence) -> bytes:
    buf = io.BytesIO()
    nx.write_gexf(to_networkx(ev), buf)
    return buf.getvalue()

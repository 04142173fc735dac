"""One detection run over a DetectionInput: graph -> communities -> scores -> explanations."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from graph.build import AccountGraph, BuildParams, build_graph
from graph.community import DEFAULT_ENGINE, DEFAULT_RESOLUTION, detect_communities
from graph.data import DetectionInput
from graph.explain import Display, Explanation, explain
from graph.gc_pause import paused_gc
from graph.merge import reunite
from graph.scoring import ClusterTable, breakdown, cluster_table, load_weights, logistic
from graph.types import Family

DEFAULT_THRESHOLD = 0.5
MAX_EDGES_KEPT = 200


@dataclass(frozen=True)
class DetectParams:
    engine: str = DEFAULT_ENGINE
    resolution: float | None = None
    seed: int = 0
    threshold: float = DEFAULT_THRESHOLD
    min_cluster_size: int = 2
    build: BuildParams = field(default_factory=BuildParams)

    def record(self) -> dict[str, Any]:
        """Everything needed to reproduce the run, as JSON-ready values."""
        res = DEFAULT_RESOLUTION[self.engine] if self.resolution is None else self.resolution
        b = asdict(self.build)
        b["kind_weight"] = {str(k): v for k, v in b["kind_weight"].items()}
        return {
            "engine": self.engine,
            "resolution": res,
            "seed": self.seed,
            "threshold": self.threshold,
            "min_cluster_size": self.min_cluster_size,
            "build": b,
        }


@dataclass
class Cluster:
    members: np.ndarray  # account row indices
    score: float
    flagged: bool
    signals: dict[str, float]
    explanation: Explanation
    strength: np.ndarray  # per member: sum of its intra-cluster edge weights
    edges: list[tuple[int, int, float, dict[str, float]]]


@dataclass
class DetectionResult:
    clusters: list[Cluster]
    graph: AccountGraph
    table: ClusterTable
    labels: np.ndarray
    timings: dict[str, float]
    counts: dict[str, Any]


Progress = Callable[[str], None]


def run_detection(
    inp: DetectionInput,
    params: DetectParams | None = None,
    *,
    display: Display | None = None,
    progress: Progress | None = None,
) -> DetectionResult:
    p = params or DetectParams()
    timings: dict[str, float] = {}
    say = progress or (lambda _stage: None)

    memory: dict[str, int] = {}

    def stage(name: str, t0: float) -> float:
        timings[name] = round(time.perf_counter() - t0, 3)
        memory[name] = peak_rss_mib()
        return time.perf_counter()

    t = time.perf_counter()
    say("building graph")
    g = build_graph(inp, p.build)
    t = stage("build_graph", t)
    say("detecting communities")
    labels = partition(inp, g, p)
    t = stage("communities", t)
    say("scoring")
    table = cluster_table(inp, g, labels, min_size=p.min_cluster_size)
    weights = load_weights()
    contrib = breakdown(table.features, weights)
    scores = logistic(contrib)
    t = stage("scoring", t)
    say("explaining")
    explanations = explain(inp, g, labels, table, scores, contrib, display=display)
    t = stage("explain", t)
    clusters = _clusters(g, labels, table, scores, explanations, p.threshold)
    stage("edges", t)
    counts = {
        "accounts": g.n,
        "edges": g.n_edges,
        "clusters": len(clusters),
        "flagged_clusters": sum(c.flagged for c in clusters),
        "flagged_accounts": int(sum(len(c.members) for c in clusters if c.flagged)),
        "timing_cells": g.timing_keys,
        **{f"public_{k}": v for k, v in g.public_values.items()},
        "peak_rss_mib_after": memory,
    }
    return DetectionResult(clusters, g, table, labels, timings, counts)


def partition(inp: DetectionInput, g: AccountGraph, p: DetectParams | None = None) -> np.ndarray:
    """Communities of the graph, with the pieces of one fleet reunited (``graph.merge``)."""
    p = p or DetectParams()
    labels = detect_communities(
        g.n, g.src, g.dst, g.weight, engine=p.engine, resolution=p.resolution, seed=p.seed
    )
    return reunite(g, labels, inp.accounts.org)


def peak_rss_mib() -> int:
    """This process's peak resident memory so far, in MiB (0 where the OS cannot say)."""
    try:
        import resource
    except ImportError:  # not on POSIX
        return 0
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


def _clusters(
    g: AccountGraph,
    labels: np.ndarray,
    table: ClusterTable,
    scores: np.ndarray,
    explanations: list[Explanation],
    threshold: float,
) -> list[Cluster]:
    """The run's clusters, each with its ``MAX_EDGES_KEPT`` heaviest intra-cluster edges.

    Edge selection is vectorised (one sort of the intra-cluster edges, a rank within each
    cluster); the per-edge tuples and family dicts are built from plain lists with the cyclic
    garbage collector paused: they hold no cycles, and at millions of edges its full passes
    over every new container cost more than building them."""
    intra = labels[g.src] == labels[g.dst]
    src, dst, w = g.src[intra], g.dst[intra], g.weight[intra]
    strength = np.bincount(src, weights=w, minlength=g.n) + np.bincount(
        dst, weights=w, minlength=g.n
    )
    lab = labels[src]
    order = np.lexsort((-w, lab))
    lab = lab[order]
    wanted = np.asarray(table.labels, dtype=lab.dtype)
    lo = np.searchsorted(lab, wanted, side="left")
    hi = np.minimum(np.searchsorted(lab, wanted, side="right"), lo + MAX_EDGES_KEPT)
    counts = hi - lo
    # positions lo..hi-1 of every cluster, in cluster order
    starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
    kept = order[starts + np.arange(int(counts.sum()))]
    edge_rows = np.flatnonzero(intra)[kept]
    with paused_gc():
        edges = _edge_lists(src[kept], dst[kept], w[kept], g.family[edge_rows], counts)
        return [
            Cluster(
                members=table.members[i],
                score=float(scores[i]),
                flagged=bool(scores[i] >= threshold),
                signals=explanations[i]["signals"],
                explanation=explanations[i],
                strength=strength[table.members[i]],
                edges=edges[i],
            )
            for i in range(len(wanted))
        ]


def _edge_lists(
    src: np.ndarray, dst: np.ndarray, w: np.ndarray, fam: np.ndarray, counts: np.ndarray
) -> list[list[tuple[int, int, float, dict[str, float]]]]:
    """Edge tuples (source, target, weight, {family: weight}) cut into one list per cluster
    (``counts`` edges each, in order)."""
    names = [Family(f).label for f in range(fam.shape[1])]
    flat = [
        (a, b, x, {names[f]: round(v, 3) for f, v in enumerate(row) if v > 0})
        for a, b, x, row in zip(src.tolist(), dst.tolist(), w.tolist(), fam.tolist(), strict=True)
    ]
    bounds = np.concatenate([[0], np.cumsum(counts)]).tolist()
    return [flat[bounds[i] : bounds[i + 1]] for i in range(len(counts))]

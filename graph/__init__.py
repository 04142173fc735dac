"""hydrascope's algorithm core: a pure library (numpy, scipy, pandas, igraph, networkx).

Callers import from here, not from the modules::

    from graph import DetectParams, run_detection
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# standard library only, and `evaluate` must be bound here: the submodule graph.evaluate
# would otherwise shadow the function once anything imports it
from graph.evaluate import evaluate
from graph.types import Family, Kind

if TYPE_CHECKING:
    from graph.build import AccountGraph, BuildParams, build_graph
    from graph.community import ENGINES, detect_communities
    from graph.data import Accounts, Activity, DetectionInput, Incidence, Templates
    from graph.lineage import match_clusters
    from graph.pipeline import Cluster, DetectionResult, DetectParams, run_detection

# Imported on first use (PEP 562): ingest workers import graph.signals.prompts for the
# template skeleton and should not pay for scipy, igraph and the whole pipeline.
_LAZY = {
    "AccountGraph": "graph.build",
    "BuildParams": "graph.build",
    "build_graph": "graph.build",
    "ENGINES": "graph.community",
    "detect_communities": "graph.community",
    "Accounts": "graph.data",
    "Activity": "graph.data",
    "DetectionInput": "graph.data",
    "Incidence": "graph.data",
    "Templates": "graph.data",
    "match_clusters": "graph.lineage",
    "Cluster": "graph.pipeline",
    "DetectionResult": "graph.pipeline",
    "DetectParams": "graph.pipeline",
    "run_detection": "graph.pipeline",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'graph' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "ENGINES",
    "AccountGraph",
    "Accounts",
    "Activity",
    "BuildParams",
    "Cluster",
    "DetectParams",
    "DetectionInput",
    "DetectionResult",
    "Family",
    "Incidence",
    "Kind",
    "Templates",
    "build_graph",
    "detect_communities",
    "evaluate",
    "match_clusters",
    "run_detection",
]

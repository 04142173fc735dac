"""hydrascope's algorithm core: a pure library (numpy, scipy, pandas, igraph, networkx).

Callers import from here, not from the modules::

    from graph import DetectParams, run_detection
"""

from graph.build import AccountGraph, BuildParams, build_graph
from graph.community import ENGINES, detect_communities
from graph.data import Accounts, Activity, DetectionInput, Incidence, Templates
from graph.evaluate import evaluate
from graph.lineage import match_clusters
from graph.pipeline import Cluster, DetectionResult, DetectParams, run_detection
from graph.types import Family, Kind

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

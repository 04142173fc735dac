"""Detection quality against ground truth (synthetic worlds, or labelled incidents).

>>> truth = {"a": "net1", "b": "net1", "c": "benign", "d": "benign"}
>>> m = evaluate([(["a", "b"], 0.9, True), (["c", "d"], 0.2, False)], truth)
>>> m["precision"], m["recall"], m["benign_fpr"], m["networks"]["net1"]["recall"]
(1.0, 1.0, 0.0, 1.0)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

BENIGN = "benign"


def evaluate(
    clusters: Sequence[tuple[Sequence[str], float, bool]], truth: Mapping[str, str]
) -> dict[str, Any]:
    """Precision, recall and benign false-positive rate of flagged clusters (by account),
    per-network recall and fragmentation (flagged clusters per network), and the average
    precision of ranking accounts by their cluster's score."""
    flagged_accounts: set[str] = set()
    score_of: dict[str, float] = {}
    frag: Counter[str] = Counter()
    for members, score, flagged in clusters:
        for a in members:
            score_of[a] = max(score, score_of.get(a, 0.0))
        if flagged:
            flagged_accounts.update(members)
            labels = Counter(truth.get(a, BENIGN) for a in members)
            for net, k in labels.items():
                if net != BENIGN and k >= max(2, 0.1 * len(members)):
                    frag[net] += 1
    networks = Counter(v for v in truth.values() if v != BENIGN)
    benign_total = sum(1 for v in truth.values() if v == BENIGN)
    tp = sum(1 for a in flagged_accounts if truth.get(a, BENIGN) != BENIGN)
    fp = len(flagged_accounts) - tp
    hydra_total = sum(networks.values())
    per_net = {}
    for net, size in sorted(networks.items()):
        found = sum(1 for a in flagged_accounts if truth.get(a) == net)
        per_net[net] = {
            "size": size,
            "recall": round(found / size, 4),
            "flagged_clusters": frag[net],
        }
    ranked = sorted(truth, key=lambda a: -score_of.get(a, 0.0))
    hits, ap = 0, 0.0
    for i, a in enumerate(ranked, 1):
        if truth[a] != BENIGN:
            hits += 1
            ap += hits / i
    return {
        "precision": round(tp / len(flagged_accounts), 4) if flagged_accounts else 1.0,
        "recall": round(tp / hydra_total, 4) if hydra_total else 1.0,
        "benign_fpr": round(fp / benign_total, 6) if benign_total else 0.0,
        "flagged_accounts": len(flagged_accounts),
        "average_precision": round(ap / hydra_total, 4) if hydra_total else 1.0,
        "networks": per_net,
        "min_network_recall": min((v["recall"] for v in per_net.values()), default=1.0),
        "max_fragmentation": max((v["flagged_clusters"] for v in per_net.values()), default=0),
    }

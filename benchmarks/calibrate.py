"""Fit the cluster score's weights on generated worlds (not the evaluation world).

Each training world draws its own population mix and network sizes from a seeded
generator, so the fit cannot memorise one world. Labels: a cluster is positive when most of
its members belong to a planted network. The fit is an L2-regularised logistic regression
with sign constraints (evidence and behaviour can only raise suspicion, mitigating context
can only lower it), weighted by sqrt(cluster size), with positives and negatives given equal
total weight: the score reads as the probability that a cluster is a coordinated network
when, a priori, networks and ordinary groups are equally likely. Writes
graph/score_weights.json.

    python benchmarks/calibrate.py [--seeds 101 102 103] [--realistic-seeds 101 102 103 104 105]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._world import today, world_input
from graph.build import build_graph
from graph.pipeline import partition
from graph.scoring import FEATURES, MITIGATING, WEIGHTS_FILE, cluster_table
from worlds.world import NetworkSpec, WorldParams, generate_world, realistic_params

L2 = 0.01


def training_world(seed: int) -> WorldParams:
    rng = np.random.default_rng(seed)
    styles = ["cardfarm", "resiproxy", "sleeper", "regrowth", "fakeorg", "smallring"]
    base = {
        "cardfarm": 150,
        "resiproxy": 400,
        "sleeper": 80,
        "regrowth": 250,
        "fakeorg": 60,
        "smallring": 12,
    }
    nets = tuple(
        NetworkSpec(f"{s}_{seed}_{copy}", s, max(6, int(base[s] * rng.uniform(0.2, 1.5))))
        for s in styles
        for copy in range(2)
    )
    return WorldParams(
        n_benign=int(rng.integers(6_000, 12_000)),
        seed=seed,
        networks=nets,
        family_share=rng.uniform(0.02, 0.1),
        campus_share=rng.uniform(0.02, 0.1),
        carrier_share=rng.uniform(0.05, 0.15),
        enterprise_share=rng.uniform(0.03, 0.12),
        cron_share=rng.uniform(0.005, 0.03),
        public_template_share=rng.uniform(0.15, 0.45),
        mean_requests=rng.uniform(10, 30),
    )


def realistic_training_world(seed: int) -> WorldParams:
    """A realistic world (``realistic_params``) with its own mix and network sizes."""
    rng = np.random.default_rng(seed)
    p = realistic_params(seed, int(rng.integers(5_000, 9_000)))
    nets = tuple(
        NetworkSpec(f"{s.name}_{seed}", s.style, max(6, int(s.size * rng.uniform(0.3, 1.5))))
        for s in p.networks
    )
    return replace(
        p,
        networks=nets,
        family_share=rng.uniform(0.02, 0.1),
        carrier_share=rng.uniform(0.05, 0.15),
        enterprise_share=rng.uniform(0.03, 0.1),
        research_share=rng.uniform(0.005, 0.02),
        workshop_share=rng.uniform(0.005, 0.03),
        agent_framework_share=rng.uniform(0.01, 0.04),
    )


def cluster_data(params: WorldParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    world = generate_world(params)
    inp, truth = world_input(world)
    g = build_graph(inp)
    labels = partition(inp, g)
    table = cluster_table(inp, g, labels)
    seed = f"{params.prompts} {params.seed}"
    hydra = np.array([truth[a] != "benign" for a in inp.accounts.ids])
    y = np.array([hydra[m].mean() > 0.5 for m in table.members], dtype=float)
    size = np.array([len(m) for m in table.members], dtype=float)
    print(f"seed {seed}: {len(y)} clusters, {int(y.sum())} positive", file=sys.stderr)
    return table.features[list(FEATURES)].to_numpy(dtype=float), y, np.sqrt(size)


def balanced(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Give positives and negatives equal total weight (a 50% prior; see module doc)."""
    out = w.copy()
    out[y == 1] *= w[y == 0].sum() / max(w[y == 1].sum(), 1e-9)
    return out


def fit(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, float]:
    d = x.shape[1]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = theta[0] + x @ theta[1:]
        p = 1 / (1 + np.exp(-z))
        eps = 1e-12
        ll = -(w * (y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))).sum() / w.sum()
        grad_z = w * (p - y) / w.sum()
        g = np.concatenate([[grad_z.sum()], x.T @ grad_z])
        ll += L2 * (theta[1:] ** 2).sum()
        g[1:] += 2 * L2 * theta[1:]
        return ll, g

    bounds = [(None, None)] + [((None, 0.0) if f in MITIGATING else (0.0, None)) for f in FEATURES]
    res = minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B", bounds=bounds)
    return {
        "intercept": float(res.x[0]),
        **{f: float(v) for f, v in zip(FEATURES, res.x[1:], strict=True)},
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="*", default=[101, 102, 103])
    ap.add_argument("--realistic-seeds", type=int, nargs="+", default=[101, 102, 103, 104, 105])
    args = ap.parse_args()
    parts = [cluster_data(training_world(s)) for s in args.seeds] + [
        cluster_data(realistic_training_world(s)) for s in args.realistic_seeds
    ]
    x = np.vstack([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    w = balanced(y, np.concatenate([p[2] for p in parts]))
    weights = fit(x, y, w)
    z = weights["intercept"] + x @ np.array([weights[f] for f in FEATURES])
    p = 1 / (1 + np.exp(-z))
    for lo in (0.0, 0.1, 0.3, 0.5, 0.7, 0.9):
        m = (p >= lo) & (p < lo + (0.1 if lo == 0.0 else 0.2))
        if m.any():
            rate = (w[m] * y[m]).sum() / w[m].sum()
            print(
                f"predicted {lo:.1f}+: {int(m.sum())} clusters, weighted positive rate {rate:.3f}",
                file=sys.stderr,
            )
    out = {
        "provenance": (
            f"benchmarks/calibrate.py on {today()}: "
            + (f"classic training worlds seeds {args.seeds}, " if args.seeds else "")
            + f"realistic training worlds seeds {args.realistic_seeds}, "
            f"{len(y)} clusters ({int(y.sum())} positive), L2={L2}, sqrt(size) weights, "
            "classes balanced"
        ),
        "weights": {k: round(v, 4) for k, v in weights.items()},
    }
    WEIGHTS_FILE.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

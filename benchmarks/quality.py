"""Detection quality on realistic worlds: held-out seeds, held-out styles, per look-alike class.

    python benchmarks/quality.py [--benign 8000] [--train 101 102 103] [--eval 201 202]
                                 [--cache DIR] [--write]

Worlds come from ``worlds.world.realistic_params`` (mostly one-off prompts, look-alikes,
adaptive networks) and go through the real ingest pipeline into SQLite, then detection's
graph, communities and cluster features. Then:

1. **Fit** the score on the training seeds' clusters (``benchmarks/calibrate.py``'s fit: L2,
   sign constraints, sqrt(size) weights, classes balanced), and, for each network style,
   once more without any cluster holding accounts of that style ("fit without a style").
2. **Held-out seeds**: the evaluation seeds' clusters scored with the full fit, at the
   default threshold: precision, recall, benign FPR, average precision, recall and flagged
   clusters per network, flagged accounts per look-alike class.
3. **Held-out styles**: each style's recall (and the world's precision and FPR) on the
   evaluation seeds when scored with the fit that never saw the style.
4. **Shipped weights**: the same evaluation with ``graph/score_weights.json`` as committed, so
   a change is compared with what it replaces in the same run.

``--cache DIR`` keeps each world's ingested detection input (pickled) between runs; delete it
when ingest or the generator changes. ``--write`` appends the tables to docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._report import append_section  # noqa: E402
from benchmarks._world import git_rev, machine, today, world_input  # noqa: E402
from benchmarks.calibrate import balanced, fit  # noqa: E402
from graph import evaluate  # noqa: E402
from graph.build import build_graph  # noqa: E402
from graph.data import DetectionInput  # noqa: E402
from graph.pipeline import DEFAULT_THRESHOLD, partition  # noqa: E402
from graph.scoring import (  # noqa: E402
    FEATURES,
    WEIGHTS_FILE,
    cluster_table,
    load_weights,
    score,
)
from worlds.world import REALISTIC_NETWORKS, generate_world, realistic_params  # noqa: E402

BENIGN = "benign"


@dataclass
class Clusters:
    """One world's clusters: features, members (account ids), and who the accounts are."""

    seed: int
    x: np.ndarray
    members: list[list[str]]
    truth: dict[str, str]  # account -> network name or "benign"
    role: dict[str, str]  # account -> look-alike class (benign) or network name


#: Part of each cached world's file name: bumped when what ingest stores changes shape
#: (2: band keys as uint32 of 8-bit values), so an old cache is rebuilt, not misread.
CACHE_FORMAT = 2


def _world(seed: int, benign: int, cache: Path | None) -> tuple[DetectionInput, dict, dict]:
    path = cache / f"realistic-{seed}-{benign}-v{CACHE_FORMAT}.pkl" if cache else None
    if path is not None and path.exists():
        return pickle.loads(path.read_bytes())
    world = generate_world(realistic_params(seed, benign))
    inp, truth = world_input(world)
    role = dict(zip((a["id"] for a in world.accounts), world.roles, strict=True))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps((inp, truth, role), protocol=5))
    return inp, truth, role


def clusters(seed: int, benign: int, cache: Path | None) -> Clusters:
    t0 = time.perf_counter()
    inp, truth, role = _world(seed, benign, cache)
    g = build_graph(inp)
    labels = partition(inp, g)
    table = cluster_table(inp, g, labels)
    ids = inp.accounts.ids
    members = [ids[m].tolist() for m in table.members]
    print(
        f"seed {seed}: {len(ids)} accounts, {len(members)} clusters "
        f"({time.perf_counter() - t0:.0f} s)",
        file=sys.stderr,
    )
    x = table.features[list(FEATURES)].to_numpy(dtype=float)
    return Clusters(seed, x, members, truth, role)


def labels_of(c: Clusters) -> tuple[np.ndarray, np.ndarray, list[set[str]]]:
    """Per cluster: positive (most members planted), sqrt(size), the network styles inside."""
    y = np.array([np.mean([c.truth[a] != BENIGN for a in m]) > 0.5 for m in c.members], float)
    w = np.sqrt([len(m) for m in c.members])
    styles = [{_style(c.truth[a]) for a in m if c.truth[a] != BENIGN} for m in c.members]
    return y, w, styles


def _style(network: str) -> str:
    return network.split("_")[0]


def fit_without(parts: list[Clusters], style: str | None) -> dict[str, float]:
    xs, ys, ws = [], [], []
    for c in parts:
        y, w, styles = labels_of(c)
        keep = np.array([style not in s for s in styles]) if style else np.ones(len(y), bool)
        xs.append(c.x[keep])
        ys.append(y[keep])
        ws.append(w[keep])
    y = np.concatenate(ys)
    return fit(np.vstack(xs), y, balanced(y, np.concatenate(ws)))


def measure(c: Clusters, weights: dict[str, float]) -> dict[str, Any]:
    """Quality of one world's clusters under ``weights`` at the default threshold."""
    frame = _frame(c.x)
    s = score(frame, weights)
    flagged = s >= DEFAULT_THRESHOLD
    m = evaluate(
        [(mem, float(sc), bool(f)) for mem, sc, f in zip(c.members, s, flagged, strict=True)],
        c.truth,
    )
    per_class: Counter[str] = Counter()
    class_total = Counter(c.role[a] for a, lab in c.truth.items() if lab == BENIGN)
    for mem, f in zip(c.members, flagged, strict=True):
        if f:
            per_class.update(c.role[a] for a in mem if c.truth[a] == BENIGN)
    m["lookalikes"] = {k: (per_class.get(k, 0), n) for k, n in sorted(class_total.items())}
    return m


def _provenance() -> str:
    """How the shipped weights were fitted (written by ``benchmarks/calibrate.py``)."""
    return str(json.loads(WEIGHTS_FILE.read_text())["provenance"])


def _frame(x: np.ndarray) -> Any:
    import pandas as pd

    return pd.DataFrame(x, columns=list(FEATURES))


def _row(name: str, m: dict[str, Any]) -> str:
    return (
        f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['benign_fpr'] * 100:.3f}% "
        f"| {m['average_precision']:.3f} | {m['min_network_recall']:.2f} "
        f"| {m['max_fragmentation']} |"
    )


def report(
    evals: list[Clusters],
    full: dict[str, float],
    shipped: dict[str, float],
    held: dict[str, dict[str, float]],
    args: argparse.Namespace,
) -> str:
    lines = [
        "## Detection quality on realistic worlds",
        "",
        f"Realistic worlds (`realistic_params`, {args.benign:,} benign accounts, 28 days), "
        f"measured on held-out seeds {args.eval} at threshold {DEFAULT_THRESHOLD}. *shipped*: "
        f"`graph/score_weights.json` ({_provenance()}); *refit*: fitted here on realistic seeds "
        f"{args.train} only. {machine()}, {today()}, commit {git_rev()}. "
        "`python benchmarks/quality.py`.",
        "",
        "| weights (seed) | precision | recall | benign FPR | avg precision | min network "
        "recall | max flagged clusters per network |",
        "|---|---|---|---|---|---|---|",
    ]
    per_style: dict[str, list[tuple[float, int]]] = {}
    classes: dict[str, dict[str, list[int]]] = {}
    for c in evals:
        for name, w in (("shipped", shipped), ("refit", full)):
            m = measure(c, w)
            lines.append(_row(f"{name} ({c.seed})", m))
            for k, (flagged, total) in m["lookalikes"].items():
                entry = classes.setdefault(k, {"shipped": [0, 0], "refit": [0, 0]})[name]
                entry[0] += flagged
                entry[1] += total
            if name == "shipped":
                for net, v in m["networks"].items():
                    per_style.setdefault(_style(net), []).append(
                        (v["recall"], v["flagged_clusters"])
                    )
    lines += [
        "",
        "Per network style: recall and flagged clusters with the shipped weights (held-out "
        "seeds), and with a fit that never saw the style (held-out style: refit on the "
        "training seeds without any cluster holding that style's accounts):",
        "",
        "| style | recall (shipped) | flagged clusters | recall (held-out style) "
        "| precision, style held out | benign FPR, style held out |",
        "|---|---|---|---|---|---|",
    ]
    for style in sorted(per_style):
        recall = np.mean([r for r, _ in per_style[style]])
        frag = max(f for _, f in per_style[style])
        hs = [measure(c, held[style]) for c in evals]
        style_recall = np.mean(
            [v["recall"] for m in hs for net, v in m["networks"].items() if _style(net) == style]
        )
        lines.append(
            f"| {style} | {recall:.3f} | {frag} | {style_recall:.3f} "
            f"| {np.mean([m['precision'] for m in hs]):.3f} "
            f"| {np.mean([m['benign_fpr'] for m in hs]) * 100:.3f}% |"
        )
    lines += [
        "",
        "Benign accounts flagged per class (held-out seeds, summed):",
        "",
        "| class | accounts | flagged (shipped) | flagged (refit) |",
        "|---|---|---|---|",
    ]
    for k, v in sorted(classes.items()):
        lines.append(f"| {k} | {v['shipped'][1]} | {v['shipped'][0]} | {v['refit'][0]} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--benign", type=int, default=8000)
    ap.add_argument("--train", type=int, nargs="+", default=[101, 102, 103])
    ap.add_argument("--eval", type=int, nargs="+", default=[201, 202])
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    train = [clusters(s, args.benign, args.cache) for s in args.train]
    evals = [clusters(s, args.benign, args.cache) for s in args.eval]
    full = fit_without(train, None)
    held = {s.style: fit_without(train, s.style) for s in REALISTIC_NETWORKS}
    text = report(evals, full, load_weights(), held, args)
    print(text)
    if args.write:
        append_section("Detection quality on realistic worlds", text)


if __name__ == "__main__":
    main()

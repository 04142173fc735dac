"""Stable cluster ids across runs, matched by member overlap, with split/merge lineage.

>>> prev = {"hc_a": ["1", "2", "3", "4"], "hc_b": ["7", "8"]}
>>> ids, lineage, gone = match_clusters(prev, [["1", "2", "3", "4", "5"], ["9", "10"]])
>>> ids[0], lineage[0]["kind"], lineage[1]["kind"], gone
('hc_a', 'continued', 'new', {'hc_b': {'kind': 'vanished', 'into': []}})
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

MIN_OVERLAP = 0.5


def new_cluster_id(members: Sequence[str], taken: set[str]) -> str:
    """A deterministic id from the members; never one already in use."""
    digest = hashlib.blake2b("\n".join(sorted(members)).encode(), digest_size=8).hexdigest()
    cid, i = f"hc_{digest}", 1
    while cid in taken:
        cid, i = f"hc_{digest}_{i}", i + 1
    return cid


def match_clusters(
    previous: Mapping[str, Sequence[str]],
    current: Sequence[Sequence[str]],
    *,
    taken: set[str] | None = None,
) -> tuple[list[str], list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Give each current cluster the id of the previous cluster it continues, or a new id.

    A current cluster continues a previous one when they share at least half of either's
    members (largest overlaps first, one to one). Returns the ids, each cluster's lineage
    (``continued``/``new``, with ``split_from``/``merged_from``) and the previous clusters
    that are gone, with where their members went.
    """
    taken = set(taken or ()) | set(previous)
    prev_rows = [(cid, a) for cid, members in previous.items() for a in members]
    cur_rows = [(i, a) for i, members in enumerate(current) for a in members]
    prev_df = pd.DataFrame(prev_rows, columns=["prev", "a"])
    cur_df = pd.DataFrame(cur_rows, columns=["cur", "a"])
    overlap = cur_df.merge(prev_df, on="a").groupby(["cur", "prev"]).size().reset_index(name="n")
    prev_size = {cid: len(m) for cid, m in previous.items()}
    overlap["frac_prev"] = overlap["n"] / overlap["prev"].map(prev_size)
    overlap["frac_cur"] = overlap["n"] / overlap["cur"].map(lambda i: len(current[i]))
    candidates = overlap[
        (overlap["frac_prev"] >= MIN_OVERLAP) | (overlap["frac_cur"] >= MIN_OVERLAP)
    ]
    candidates = candidates.sort_values(["n", "prev"], ascending=[False, True])
    ids: list[str | None] = [None] * len(current)
    used: set[str] = set()
    for cur, prev in zip(candidates["cur"], candidates["prev"], strict=True):
        if ids[cur] is None and prev not in used:
            ids[cur] = prev
            used.add(prev)
    for i, members in enumerate(current):
        if ids[i] is None:
            ids[i] = new_cluster_id(members, taken)
        taken.add(ids[i])  # type: ignore[arg-type]
    final = [str(x) for x in ids]

    sources = overlap.groupby("cur")["prev"].apply(list).to_dict()
    targets = overlap.groupby("prev")["cur"].apply(list).to_dict()
    lineage = []
    for i, cid in enumerate(final):
        came = sorted(p for p in sources.get(i, []) if p != cid)
        entry: dict[str, Any] = {"kind": "continued" if cid in previous else "new"}
        if came:
            entry["merged_from"] = came
        if cid in previous and len(targets.get(cid, [])) > 1:
            entry["split_into"] = sorted(final[j] for j in targets[cid] if final[j] != cid)
        lineage.append(entry)
    gone = {}
    for cid in previous:
        if cid not in used:
            into = sorted({final[j] for j in targets.get(cid, [])})
            gone[cid] = {"kind": "merged" if into else "vanished", "into": into}
    return final, lineage, gone

"""Stable ids across runs: same network keeps its id; splits, merges and new ones recorded."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from graph.lineage import match_clusters


def test_same_and_grown_clusters_keep_their_ids() -> None:
    prev = {"hc_x": ["a", "b", "c"], "hc_y": ["d", "e"]}
    ids, lineage, gone = match_clusters(prev, [["d", "e"], ["a", "b", "c", "z"]])
    assert ids == ["hc_y", "hc_x"] and not gone
    assert all(entry["kind"] == "continued" for entry in lineage)


def test_split_and_merge_are_recorded() -> None:
    prev = {"hc_x": list("abcdef"), "hc_y": list("gh"), "hc_z": list("ij")}
    current = [list("abcd"), list("ef"), list("ghij")]
    ids, lineage, gone = match_clusters(prev, current)
    assert ids[0] == "hc_x" and lineage[0]["split_into"] == [ids[1]]
    assert lineage[1]["kind"] == "new" and lineage[1]["merged_from"] == ["hc_x"]
    assert ids[2] in ("hc_y", "hc_z")
    other = "hc_z" if ids[2] == "hc_y" else "hc_y"
    assert gone[other] == {"kind": "merged", "into": [ids[2]]}


def test_new_ids_are_deterministic_and_never_reused() -> None:
    a, _, _ = match_clusters({}, [["p", "q"]])
    b, _, _ = match_clusters({}, [["q", "p"]])
    assert a == b
    c, _, _ = match_clusters({}, [["p", "q"]], taken={a[0]})
    assert c[0] != a[0]


@given(st.lists(st.sets(st.integers(0, 50), min_size=1, max_size=8), max_size=10))
def test_ids_are_unique(groups: list[set[int]]) -> None:
    seen: set[int] = set()
    current = []
    for g in groups:  # clusters of one run are disjoint
        g = g - seen
        seen |= g
        if g:
            current.append([str(x) for x in g])
    prev = {f"hc_{i}": c for i, c in enumerate(current[::2])}
    ids, _, _ = match_clusters(prev, current)
    assert len(set(ids)) == len(ids)

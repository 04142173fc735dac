"""Community engines: partitions, planted communities recovered, determinism, components."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph.community import ENGINES, components, detect_communities


def planted(k: int = 6, size: int = 12, p_in: float = 0.6, noise: int = 30, seed: int = 0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    src, dst = [], []
    for c in range(k):
        base = c * size
        for i in range(size):
            for j in range(i + 1, size):
                if rng.random() < p_in:
                    src.append(base + i)
                    dst.append(base + j)
    n = k * size
    for _ in range(noise):  # weak edges between communities
        a, b = rng.integers(0, n, 2)
        if a // size != b // size:
            src.append(min(a, b))
            dst.append(max(a, b))
    w = np.array([1.0 if s // size == d // size else 0.2 for s, d in zip(src, dst, strict=True)])
    truth = np.repeat(np.arange(k), size)
    return n, np.array(src), np.array(dst), w, truth


@pytest.mark.parametrize("engine", ENGINES)
def test_result_is_a_partition_and_recovers_planted_communities(engine: str) -> None:
    n, src, dst, w, truth = planted()
    labels = detect_communities(n, src, dst, w, engine=engine, seed=3)
    assert labels.shape == (n,)
    for c in np.unique(truth):
        members = labels[truth == c]
        assert np.bincount(members).max() >= 0.9 * len(members)  # one label holds the community
    for lab in np.unique(labels):  # and no label spans two communities' majorities
        assert len(set(truth[labels == lab])) == 1 or (labels == lab).sum() <= 2


@pytest.mark.parametrize("engine", ENGINES)
def test_same_input_and_seed_give_the_same_partition(engine: str) -> None:
    n, src, dst, w, _ = planted(seed=5)
    a = detect_communities(n, src, dst, w, engine=engine, seed=11)
    b = detect_communities(n, src, dst, w, engine=engine, seed=11)
    assert np.array_equal(a, b)


def test_isolated_nodes_keep_their_own_cluster() -> None:
    labels = detect_communities(5, np.array([0]), np.array([1]), np.array([1.0]))
    assert labels[0] == labels[1]
    assert len({labels[2], labels[3], labels[4], labels[0]}) == 4


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown engine"):
        detect_communities(2, np.array([0]), np.array([1]), np.ones(1), engine="magic")


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 40), st.lists(st.tuples(st.integers(0, 39), st.integers(0, 39)), max_size=80))
def test_components_equal_networkx(n: int, pairs: list[tuple[int, int]]) -> None:
    edges = [(a, b) for a, b in pairs if a < n and b < n and a != b]
    src = np.array([a for a, _ in edges], dtype=np.int64)
    dst = np.array([b for _, b in edges], dtype=np.int64)
    labels = components(n, src, dst)
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges)
    ours = {frozenset(np.flatnonzero(labels == lab).tolist()) for lab in np.unique(labels)}
    theirs = {frozenset(c) for c in nx.connected_components(g)}
    assert ours == theirs

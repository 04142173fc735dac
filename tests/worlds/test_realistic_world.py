"""The realistic world generator makes traffic that is not separable by construction."""

from __future__ import annotations

import collections

import pytest

from graph.signals.prompts import skeleton
from worlds.world import (
    REALISTIC_NETWORKS,
    STYLES,
    NetworkSpec,
    WorldParams,
    generate_world,
    realistic_params,
)


@pytest.fixture(scope="module")
def requests() -> tuple[list[dict], dict[str, str]]:
    w = generate_world(realistic_params(seed=3, n_benign=1500, scale=0.3))
    labels = dict(w.truth())
    return [r for r in w.records() if r["type"] == "request"], labels


def test_most_benign_prompts_are_one_off_text(requests: tuple[list[dict], dict]) -> None:
    reqs, labels = requests
    benign = [r["prompt"] for r in reqs if labels[r["account_id"]] == "benign"]
    counts = collections.Counter(benign)
    assert sum(counts[p] == 1 for p in benign) / len(benign) >= 0.85
    lengths = sorted(len(p) for p in benign)
    assert lengths[len(lengths) // 2] >= 200  # a median prompt is a paragraph, not a line


def test_model_rewritten_networks_never_repeat_a_skeleton(
    requests: tuple[list[dict], dict],
) -> None:
    reqs, labels = requests
    burn = [skeleton(r["prompt"]) for r in reqs if labels[r["account_id"]] == "burnchurn"]
    assert len(burn) > 100 and len(set(burn)) / len(burn) > 0.9


def test_styles_are_selectable_and_unknown_ones_refused() -> None:
    p = realistic_params(seed=1, n_benign=50, styles=("quietring",))
    assert [n.style for n in p.networks] == ["quietring"]
    assert {s.style for s in REALISTIC_NETWORKS} <= set(STYLES)
    with pytest.raises(ValueError, match="unknown network style 'nope'"):
        generate_world(WorldParams(n_benign=10, networks=(NetworkSpec("x", "nope", 6),)))


def test_same_seed_same_world() -> None:
    a = generate_world(realistic_params(seed=9, n_benign=200, scale=0.2))
    b = generate_world(realistic_params(seed=9, n_benign=200, scale=0.2))
    assert list(a.records()) == list(b.records())

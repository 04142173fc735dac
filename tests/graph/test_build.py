"""Evidence linking: rare values link, public hubs do not, co-activity beats chance."""

from __future__ import annotations

import numpy as np

from graph.build import BuildParams, build_graph, rarity
from graph.community import detect_communities
from graph.types import Family, Kind
from tests.graph.inputs import make_input


def edge_weight(g, a: int, b: int) -> float:  # type: ignore[no-untyped-def]
    m = (g.src == min(a, b)) & (g.dst == max(a, b))
    return float(g.weight[m][0]) if m.any() else 0.0


def test_rarity_falls_with_the_number_of_accounts_sharing() -> None:
    w = rarity(np.array([2, 3, 30, 3000]))
    assert np.all(np.diff(w) < 0) and w[0] == 1.0


def test_a_shared_card_links_and_a_public_value_does_not() -> None:
    n = 400
    rows = [(0, Kind.CARD, 1), (1, Kind.CARD, 1)]
    rows += [(i, Kind.IP, 99) for i in range(n)]  # a campus NAT: everyone
    g = build_graph(make_input(n, rows), BuildParams(public_cap=256))
    assert edge_weight(g, 0, 1) > 0.3
    assert g.n_edges == 1  # the hub linked nobody
    assert g.public_values == {"ip": 1}
    assert g.family[0, Family.PAYMENT] > 0 and g.family[0, Family.NETWORK] == 0


def test_a_rarer_shared_value_weighs_more() -> None:
    rows = [(0, Kind.DEVICE, 1), (1, Kind.DEVICE, 1)]
    rows += [(i, Kind.DEVICE, 2) for i in range(2, 40)]
    g = build_graph(make_input(40, rows), BuildParams(min_edge_weight=0.0))
    assert edge_weight(g, 0, 1) > edge_weight(g, 2, 3) > 0


def test_hubs_do_not_merge_two_rings() -> None:
    n = 600
    rows = [(i, Kind.CARD, 1) for i in range(10)] + [(i, Kind.DEVICE, 2) for i in range(10)]
    rows += [(i, Kind.CARD, 3) for i in range(10, 20)] + [
        (i, Kind.DEVICE, 4) for i in range(10, 20)
    ]
    rows += [(i, Kind.IP, 7) for i in range(n)]  # one carrier NAT in front of everyone
    g = build_graph(make_input(n, rows))
    labels = detect_communities(g.n, g.src, g.dst, g.weight, seed=1)
    assert len(set(labels[:10])) == 1 and len(set(labels[10:20])) == 1
    assert labels[0] != labels[10]
    assert (labels == labels[0]).sum() == 10


def test_co_activity_links_synchronised_accounts_not_busy_strangers() -> None:
    windows = list(range(0, 2000, 10))  # both act in the same 200 windows with one template
    act = [(0, w, 5) for w in windows] + [(1, w, 5) for w in windows]
    rng = np.random.default_rng(0)  # two busy strangers, 400 random windows each
    act += [(2, int(w), 5) for w in rng.choice(2000, 400, replace=False)]
    act += [(3, int(w), 5) for w in rng.choice(2000, 400, replace=False)]
    g = build_graph(make_input(4, [], act), BuildParams(min_edge_weight=0.0))
    assert edge_weight(g, 0, 1) > 0.5
    assert edge_weight(g, 2, 3) == 0.0

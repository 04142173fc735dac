"""Cluster features and the score: volume is a pace, not a lifetime total; size alone
flags nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from graph.build import build_graph
from graph.pipeline import DEFAULT_THRESHOLD
from graph.scoring import FEATURES, cluster_table, score
from graph.types import Kind
from tests.graph.inputs import make_input

WINDOWS_PER_DAY = 144  # 10-minute activity windows
N_OTHERS = 40


def _platform(burned: tuple[int, int], steady: tuple[int, int]) -> tuple[object, np.ndarray]:
    """Two card-sharing quartets, each given as (active days, requests a day): one burned
    after a few days, one steady; the strangers make 2 requests a day for 10 days."""
    rows: list[tuple[int, Kind, int]] = []
    act: list[tuple[int, int, int]] = []
    requests = np.zeros(N_OTHERS + 8, dtype=np.int64)
    for a in range(N_OTHERS):
        rows.append((a, Kind.CARD, 1_000 + a))
        act += [(a, d * WINDOWS_PER_DAY, 5_000 + a) for d in range(10)]
        requests[a] = 20
    quartets = (range(N_OTHERS, N_OTHERS + 4), range(N_OTHERS + 4, N_OTHERS + 8))
    for quartet, (days, pace) in zip(quartets, (burned, steady), strict=True):
        for a in quartet:
            rows.append((a, Kind.CARD, 1 + quartet.start))
            act += [(a, d * WINDOWS_PER_DAY + 3, 9_000 + a) for d in range(days)]
            requests[a] = pace * days
    labels = np.arange(N_OTHERS + 8)
    labels[N_OTHERS : N_OTHERS + 4] = N_OTHERS
    labels[N_OTHERS + 4 :] = N_OTHERS + 4
    return make_input(N_OTHERS + 8, rows, act, requests=requests), labels


def test_volume_is_a_pace_over_the_days_of_activity() -> None:
    """An account burned after three days of heavy use is as busy as one that keeps the pace
    for a month (a burn-and-churn network must not look like ordinary low-volume users)."""
    inp, labels = _platform(burned=(3, 40), steady=(30, 40))
    table = cluster_table(inp, build_graph(inp), labels)  # type: ignore[arg-type]
    vol = dict(zip(table.labels.tolist(), table.features["log_volume"], strict=True))
    assert vol[N_OTHERS] == vol[N_OTHERS + 4]
    assert vol[N_OTHERS] == np.log2(40 / 2)  # 40 requests a day against the median 2


def test_the_same_requests_in_fewer_days_read_as_more_volume() -> None:
    inp, labels = _platform(burned=(3, 100), steady=(30, 10))
    table = cluster_table(inp, build_graph(inp), labels)  # type: ignore[arg-type]
    burned, steady = table.features["log_volume"]
    assert burned == pytest.approx(steady + np.log2(10))


@pytest.mark.parametrize("size", [10, 1_000, 100_000])
def test_size_alone_does_not_flag_a_cluster(size: int) -> None:
    """A company-shaped group tied by its card and office network, with ordinary behaviour
    (no distillation prompts, old accounts, median volume, no coordinated use), stays below
    the threshold up to 100,000 members, with the shipped weights."""
    ordinary = {f: 0.0 for f in FEATURES}
    ordinary |= {
        "families": 2,
        "cov_payment": 1.0,
        "cov_network": 1.0,
        "log_size": np.log2(size),
        "density": 1.0,
        "mean_weight": 1.0,
        "template_concentration": 0.5,
    }
    assert score(pd.DataFrame([ordinary])) < DEFAULT_THRESHOLD

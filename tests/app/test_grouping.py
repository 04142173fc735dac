"""The NumPy grouping behind ingest's reduce and merge steps agrees with pandas' groupby."""

from __future__ import annotations

from unittest.mock import patch

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ingest import grouping
from app.ingest.grouping import Groups, rank_within, sort_by

ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([0, 2**62, -5]), st.integers(1, 3), ints, st.integers(0, 99)),
        max_size=60,
    )
)
def test_groups_reduce_like_pandas(rows: list[tuple[int, int, int, int]]) -> None:
    df = pd.DataFrame(rows, columns=["a", "k", "v", "x"]).astype("int64")
    g = Groups(df["a"].to_numpy(), df["k"].to_numpy(), df["v"].to_numpy())
    got = pd.DataFrame(
        {
            "a": g.first(df["a"].to_numpy()),
            "k": g.first(df["k"].to_numpy()),
            "v": g.first(df["v"].to_numpy()),
            "n": g.size(),
            "s": g.sum(df["x"].to_numpy()),
            "lo": g.min(df["x"].to_numpy()),
            "hi": g.max(df["x"].to_numpy()),
        }
    )
    want = (
        df.groupby(["a", "k", "v"], sort=False)["x"]
        .agg(n="size", s="sum", lo="min", hi="max")
        .reset_index()
    )
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_exact_codes_stay_exact_when_combined_codes_are_refactored() -> None:
    # the combined code is re-factorized once it could overflow with the next key; force
    # that on every key and compare with the plain path
    rng = np.random.default_rng(3)
    keys = (rng.integers(0, 50, 5_000), rng.integers(0, 7, 5_000), rng.integers(0, 2**40, 5_000))
    plain, _ = grouping._exact_codes(keys)
    with patch.object(grouping, "_REFACTOR_ABOVE", 1):
        refactored, _ = grouping._exact_codes(keys)
    assert (refactored == plain).all()
    assert (Groups(*keys).codes == plain).all()  # the hashed path gives the same codes


def test_groups_stay_exact_when_different_keys_share_a_hash() -> None:
    # every row hashed alike (the worst collision): the groups are still the key tuples
    rng = np.random.default_rng(4)
    keys = (rng.integers(0, 3, 2_000), rng.integers(0, 4, 2_000).astype(np.int16))
    want = Groups(*keys)
    with patch.object(grouping, "_mixed", lambda ks: np.zeros(len(ks[0]), dtype=np.uint64)):
        got = Groups(*keys)
    assert got.count == want.count == 12
    assert (got.codes == want.codes).all()
    assert (got.first_row == want.first_row).all()


@given(st.lists(st.integers(0, 5), max_size=50))
def test_rank_within_counts_earlier_rows_with_the_same_key(keys: list[int]) -> None:
    want = pd.Series(keys, dtype="int64").groupby(keys).cumcount().to_numpy()
    assert rank_within(np.asarray(keys, dtype=np.int64)).tolist() == want.tolist()


def test_sort_by_orders_rows_by_several_columns() -> None:
    rows = {"a": np.array([2, 1, 2, 1]), "b": np.array([0, 5, -1, 3]), "c": np.arange(4)}
    out = sort_by(rows, "a", "b")
    assert out["c"].tolist() == [3, 1, 2, 0]

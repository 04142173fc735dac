"""The loader sums activity windows into per-(account, template) request counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from app.detection.loader import _template_incidence
from graph.types import Kind

KEYS = [0, 5, -3, 2**62, -(2**63) + 1, 2**63 - 1]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 40), st.sampled_from(KEYS), st.integers(1, 2**31)),
        max_size=200,
    )
)
def test_template_incidence_is_the_groupby_sum(rows: list[tuple[int, int, int]]) -> None:
    """The same rows, sums and order (first appearance) as pandas' two-key groupby, with
    window rows that carry no template (key 0) left out."""
    a = np.array([r[0] for r in rows], dtype=np.int32)
    key = np.array([r[1] for r in rows], dtype=np.int64)
    n = np.array([r[2] for r in rows], dtype=np.int64)
    got = _template_incidence(a, key, n)
    m = key != 0
    frame = pd.DataFrame({"a": a[m], "key": key[m], "n": n[m]})
    want = frame.groupby(["a", "key"], sort=False)["n"].sum().reset_index()
    want["kind"] = np.int16(Kind.TEMPLATE)
    pd.testing.assert_frame_equal(got, want[["a", "kind", "key", "n"]])

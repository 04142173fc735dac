"""The loader sums activity windows into per-(account, template) request counts."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.context import Context
from app.detection.loader import _template_incidence
from app.ingest.service import make_ingestor
from graph.types import Kind
from tests.helpers import account, ndjson, request

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


def test_two_tables_read_side_by_side_come_back_as_read_one_after_the_other(
    ctx: Context,
) -> None:
    """Observations and activity are read on two connections at once: the same arrays as
    reading them on one, each on its own connection (not the caller's twice), and an error
    on either side reaches the caller."""
    import pytest

    from app.detection.loader import _read_by_account, _side_by_side

    world = ndjson(
        account("a1"),
        account("a2"),
        request("a1", id="r1", ip="10.0.0.1", prompt="summarise the report"),
        request("a2", id="r2", ip="10.0.0.1", prompt="summarise the report"),
        request("a2", id="r3", ip="10.0.0.2", prompt="write a poem"),
    )
    make_ingestor(ctx).ingest(io.BytesIO(world))
    with ctx.engine.connect() as conn:
        rows = pd.Index(["a1", "a2"])
        seen: list[int] = []

        def obs(c: Any) -> list[np.ndarray]:
            seen.append(id(c.connection.driver_connection))
            return _read_by_account(c, rows, "observations", ("kind", "value_key", "n"))

        def act(c: Any) -> list[np.ndarray]:
            seen.append(id(c.connection.driver_connection))
            return _read_by_account(c, rows, "activity", ('"window"', "template_key", "n"))

        both = _side_by_side(conn, obs, act)
        assert len(set(seen)) == 2, "the second table is read on a connection of its own"
        for got, want in zip(both, (obs(conn), act(conn)), strict=True):
            assert all(np.array_equal(g, w) for g, w in zip(got, want, strict=True))
        assert len(both[0][0]) > 0 and len(both[1][0]) > 0

        def broken(c: Any) -> list[np.ndarray]:
            raise RuntimeError("disk read failed")

        with pytest.raises(RuntimeError, match="disk read failed"):
            _side_by_side(conn, obs, broken)
        with pytest.raises(RuntimeError, match="disk read failed"):
            _side_by_side(conn, broken, act)


def test_an_in_memory_database_is_read_on_its_one_connection() -> None:
    """A second connection to ``sqlite://`` would open another, empty database: there the
    two reads run one after the other on the caller's connection."""
    from sqlalchemy import create_engine, text

    from app.detection.loader import _side_by_side

    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE t (x)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))

        def count(c: Any) -> int:
            return int(c.execute(text("SELECT count(*) FROM t")).scalar_one())

        assert _side_by_side(conn, count, count) == (1, 1)
    engine.dispose()

"""Small hand-built detection inputs for the graph tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from graph.data import Accounts, Activity, DetectionInput, Incidence, Templates
from graph.types import Kind

DAY = 86_400
T0 = 1_700_000_000


def make_input(
    n: int,
    rows: Sequence[tuple[int, Kind, int]],
    activity: Sequence[tuple[int, int, int]] = (),
    created: np.ndarray | None = None,
    requests: np.ndarray | None = None,
) -> DetectionInput:
    """``n`` accounts; ``rows`` are (account, kind, value key) incidences and ``activity``
    (account, window, template) rows. By default sign-ups are three days apart (no bursts)."""
    if created is None:
        created = np.arange(n, dtype=np.int64) * DAY * 3 + T0
    acc = Accounts(
        ids=np.array([f"a{i}" for i in range(n)], dtype=object),
        created=created,
        org=np.array([None] * n, dtype=object),
        email_domain=np.array([None] * n, dtype=object),
        email_shape=np.array([None] * n, dtype=object),
        requests=np.ones(n, dtype=np.int64) if requests is None else requests,
        output_tokens=np.zeros(n, dtype=np.int64),
        first_seen=np.zeros(n, dtype=np.int64),
    )
    inc = Incidence(
        account=np.array([r[0] for r in rows], dtype=np.int32),
        kind=np.array([int(r[1]) for r in rows], dtype=np.int16),
        key=np.array([r[2] for r in rows], dtype=np.int64),
        n=np.ones(len(rows), dtype=np.int64),
    )
    act = Activity(
        account=np.array([a[0] for a in activity], dtype=np.int32),
        window=np.array([a[1] for a in activity], dtype=np.int64),
        template=np.array([a[2] for a in activity], dtype=np.int64),
        n=np.ones(len(activity), dtype=np.int64),
    )
    return DetectionInput(acc, inc, act, Templates(np.zeros(0, dtype=np.int64), []))

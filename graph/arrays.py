"""Array helpers that the library's hot paths share."""

from __future__ import annotations

import numpy as np


def distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of a 1-d array: a sort and a mask. NumPy 2.4's plain
    ``np.unique`` (no ``return_*`` flag) takes a hash-table path that was 15x slower on
    many distinct integers (6M random int64: 7.3 s against 0.49 s for the sort alone).

    >>> distinct(np.array([3, -1, 3, 7, -1])).tolist()
    [-1, 3, 7]
    """
    out = np.sort(np.asarray(values).ravel())
    if len(out) < 2:
        return out
    return out[np.r_[True, out[1:] != out[:-1]]]

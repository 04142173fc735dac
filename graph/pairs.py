"""Pair sums over shared values, and the edges they make, a block of account rows at a time.

Two accounts' evidence in a family is ``B @ B.T`` for the family's (account x value) matrix
``B`` with ``sqrt(weight)`` entries. The full products are far larger than what is kept (the
network family at 1M accounts: over a hundred million pairs, most of them one shared
proxy range), so rows are taken in blocks of about ``BLOCK_ENTRIES`` product entries: every
family's products for the block, plus the timing pairs of its rows, are combined into the
block's edges and cut to those that can reach the edge floor before the next block. Memory
follows the kept edges, not the products (at 1M realistic accounts the per-family products
held at once were 2 GB of a 13 GB peak).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from graph.types import Family

N_FAMILIES = len(Family)

#: Product entries per block of rows (an upper bound: the sizes of the values each row holds).
BLOCK_ENTRIES = 12_000_000


@dataclass(frozen=True)
class FamilyMatrix:
    """One family's (account x value) matrix with ``sqrt(weight)`` entries, and its transpose."""

    family: int
    b: sp.csr_matrix
    bt: sp.csr_matrix

    @classmethod
    def of(
        cls, family: int, n: int, account: np.ndarray, col: np.ndarray, w: np.ndarray
    ) -> FamilyMatrix:
        b = sp.csr_matrix((np.sqrt(w), (account, col)), shape=(n, int(col.max()) + 1))
        return cls(family, b, b.T.tocsr())

    def cost(self) -> np.ndarray:
        """Per row: an upper bound of its product entries (the sizes of the columns it is in)."""
        col_size = np.diff(self.bt.indptr).astype(np.float64)
        n = self.b.shape[0]
        rows = np.repeat(np.arange(n), np.diff(self.b.indptr))
        return np.bincount(rows, weights=col_size[self.b.indices], minlength=n)

    def upper(
        self, i0: int, i1: int, min_value: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows ``i0..i1`` of ``B @ B.T``, upper triangle only (row < column), entries >=
        ``min_value``: (rows, columns, sums). Cut straight from the block's CSR arrays
        (scipy's ``triu`` cost as much as the product itself)."""
        blk = (self.b[i0:i1] @ self.bt).tocsr()
        rows = np.repeat(np.arange(i0, i1, dtype=np.int32), np.diff(blk.indptr))
        keep = rows < blk.indices
        if min_value > 0:
            keep &= blk.data >= min_value
        return rows[keep], blk.indices[keep].astype(np.int32), blk.data[keep]


def family_matrices(
    n: int, account: np.ndarray, value: np.ndarray, weight: np.ndarray, family: np.ndarray
) -> list[FamilyMatrix]:
    """The matrix of each family with a value of positive weight."""
    out = []
    for f in range(N_FAMILIES):
        m = (family == f) & (weight > 0)
        if m.any():
            out.append(FamilyMatrix.of(f, n, account[m], pd.factorize(value[m])[0], weight[m]))
    return out


def row_blocks(n: int, costs: list[np.ndarray]) -> list[tuple[int, int]]:
    """Consecutive row ranges of about ``BLOCK_ENTRIES`` summed cost each."""
    if n == 0:
        return []
    total = np.cumsum(np.sum(costs, axis=0)) if costs else np.zeros(n)
    cuts = np.searchsorted(total, np.arange(BLOCK_ENTRIES, total[-1], BLOCK_ENTRIES))
    return list(itertools.pairwise(np.unique(np.r_[0, cuts, n]).tolist()))


def pair_sums(
    n: int, account: np.ndarray, col: np.ndarray, w: np.ndarray, min_value: float = 0.0
) -> sp.coo_matrix:
    """Upper triangle of B @ B.T for B[account, col] = sqrt(w), entries >= ``min_value``, in
    row order, computed block by block.

    >>> m = pair_sums(3, np.array([0, 1, 2, 0]), np.array([0, 0, 0, 1]), np.ones(4))
    >>> sorted(zip(m.row.tolist(), m.col.tolist(), m.data.tolist()))
    [(0, 1, 1.0), (0, 2, 1.0), (1, 2, 1.0)]
    """
    if len(account) == 0:
        return sp.coo_matrix((n, n))
    fm = FamilyMatrix.of(0, n, account, col, w)
    parts = [fm.upper(i0, i1, min_value) for i0, i1 in row_blocks(n, [fm.cost()])]
    return sp.coo_matrix(
        (
            np.concatenate([p[2] for p in parts]),
            (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])),
        ),
        shape=(n, n),
    )


@dataclass(frozen=True)
class EdgeRule:
    """How family evidence becomes an edge: family weights, and the edge floor."""

    family_weight: np.ndarray  # float64, indexed by family
    min_edge_weight: float


def edges(
    n: int,
    matrices: list[FamilyMatrix],
    timing: tuple[np.ndarray, np.ndarray, np.ndarray],
    rule: EdgeRule,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair with evidence that may reach the edge floor: (sources, targets, a
    (pairs x families) float32 table of each family's saturated evidence), sorted by pair.

    ``timing`` is the timing family's pairs (rows, columns, values in [0, 1)), in row order.
    A value family's pair sum ``s`` becomes ``1 - exp(-s)``."""
    t_row, t_col, t_val = timing
    t_cost = np.bincount(t_row, minlength=n).astype(np.float64)
    blocks = row_blocks(n, [m.cost() for m in matrices] + [t_cost])
    t_at = np.searchsorted(t_row, [i1 for _, i1 in blocks])
    srcs, dsts, tables = [], [], []
    t_lo = 0
    for (i0, i1), t_hi in zip(blocks, t_at.tolist(), strict=True):
        pair, val, fam = [], [], []
        for m in matrices:
            r, c, s = m.upper(i0, i1)
            pair.append(r.astype(np.int64) * n + c)
            val.append(1.0 - np.exp(-s))
            fam.append(np.full(len(r), m.family, dtype=np.int8))
        pair.append(t_row[t_lo:t_hi].astype(np.int64) * n + t_col[t_lo:t_hi])
        val.append(t_val[t_lo:t_hi])
        fam.append(np.full(t_hi - t_lo, int(Family.TIMING), dtype=np.int8))
        t_lo = t_hi
        s_, d_, t_ = _combine(
            n, np.concatenate(pair), np.concatenate(val), np.concatenate(fam), rule
        )
        srcs.append(s_)
        dsts.append(d_)
        tables.append(t_)
    if not srcs:
        empty = np.zeros(0, dtype=np.int32)
        return empty, empty, np.zeros((0, N_FAMILIES), dtype=np.float32)
    return np.concatenate(srcs), np.concatenate(dsts), np.concatenate(tables)


def _combine(
    n: int, pair: np.ndarray, val: np.ndarray, fam: np.ndarray, rule: EdgeRule
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One block's entries (pair code, value, family) summed per pair and family."""
    order = np.argsort(pair, kind="stable")
    pair, val, fam = pair[order], val[order], fam[order]
    del order
    starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]]) if len(pair) else pair[:0]
    # Most pairs are weak. Clamping only lowers a family's value, so the unclamped weighted
    # sum bounds an edge's weight from above: pairs under the edge floor even then are
    # dropped before the (pairs x families) table is built for the rest.
    bound = np.add.reduceat(val * rule.family_weight[fam], starts) if len(pair) else np.zeros(0)
    hopeful = bound >= rule.min_edge_weight
    run = np.diff(np.r_[starts, len(pair)])
    take = np.repeat(hopeful, run)
    pair, val, fam = pair[take], val[take], fam[take]
    del take, starts, bound
    # still sorted: each kept pair's entries are one run (no second sort)
    run = run[hopeful]
    inv = np.repeat(np.arange(len(run)), run)
    uniq = pair[np.cumsum(run) - run]
    del pair
    # timing's burst and co-activity parts add up, then saturate again
    out = np.bincount(inv * N_FAMILIES + fam, weights=val, minlength=len(uniq) * N_FAMILIES)
    out = np.minimum(out.reshape(len(uniq), N_FAMILIES), 0.999).astype(np.float32)
    return (uniq // n).astype(np.int32), (uniq % n).astype(np.int32), out

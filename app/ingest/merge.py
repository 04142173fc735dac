"""Observation and usage rows of the batches in one transaction, merged before they are written.

Request logs arrive roughly in time order, so every batch touches most accounts again and
re-sends the same (account, IP), (account, user agent), ... rows with small counts. Summing
them across the batches of a transaction first writes each row once per transaction instead
of once per batch (measured on the benchmark file: 1.08M observation upserts for 767k
requests, of which 204k distinct). Rows are grouped on the account's 64-bit hash, not its
string (grouping on strings was most of this module's cost: py-spy, 7% of all ingest CPU, in
the one process that writes); the strings are looked up once, when the rows are written.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from app.ingest import repository as repo
from app.ingest.grouping import Columns, Groups, concat, take, with_account_ids
from app.ingest.reduce import Aggregates

_COMPACT_EVERY = 8  # batches held before they are merged into one (bounds memory)


def merge_observations(rows: Columns) -> Columns:
    g = Groups(rows["ak"], rows["kind"], rows["value_key"])
    return {
        "ak": g.first(rows["ak"]),
        "kind": g.first(rows["kind"]),
        "value_key": g.first(rows["value_key"]),
        "n": g.sum(rows["n"]),
        "first_seen": g.min(rows["first_seen"]),
        "last_seen": g.max(rows["last_seen"]),
    }


def merge_usage(rows: Columns) -> Columns:
    g = Groups(rows["ak"])
    out = {"ak": g.first(rows["ak"])}
    out.update((c, g.sum(rows[c])) for c in ("requests", "input_tokens", "output_tokens"))
    out.update(first_seen=g.min(rows["first_seen"]), last_seen=g.max(rows["last_seen"]))
    return out


class MergedRows:
    def __init__(self) -> None:
        self._obs: list[Columns] = []
        self._usage: list[Columns] = []
        self._accounts: list[tuple[np.ndarray, np.ndarray]] = []  # (hashes, names) a batch

    def add(self, agg: Aggregates) -> None:
        self._obs.append(agg.observations)
        self._usage.append(agg.usage)
        self._accounts.append((agg.hashes, agg.names))
        if len(self._obs) >= _COMPACT_EVERY:
            self._compact()

    def _compact(self) -> None:
        if len(self._obs) > 1:
            self._obs = [merge_observations(concat(self._obs))]
            self._usage = [merge_usage(concat(self._usage))]

    def write(self, session: Session) -> None:
        """Upsert the merged rows in primary-key order (sequential B-tree inserts), then
        start empty again. Each table's merged rows are let go once sorted: the sorted copy
        alone is alive while it is written (on the realistic 50k file the observations of a
        1M-line transaction are ~2M rows, and the writer's peak memory was here)."""
        self._compact()
        obs_parts, usage_parts, accounts = self._obs, self._usage, self._accounts
        self._obs, self._usage, self._accounts = [], [], []
        if not obs_parts:
            return
        ranks, ids = _accounts_by_name(accounts)
        obs = obs_parts.pop()
        rank = ranks.get_indexer(pd.Index(obs["ak"]))
        order = np.lexsort((obs["value_key"], obs["kind"], rank))
        rows = with_account_ids(take(obs, order), "ak", ids[rank[order]])
        del obs, rank, order
        repo.upsert_observations(session, rows)
        del rows
        usage = usage_parts.pop()
        rank = ranks.get_indexer(pd.Index(usage["ak"]))
        order = np.argsort(rank)
        repo.upsert_usage(session, with_account_ids(take(usage, order), "ak", ids[rank[order]]))


def _accounts_by_name(accounts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[pd.Index, np.ndarray]:
    """The account hashes seen in a transaction, in order of account id, and the ids."""
    hashes = np.concatenate([h for h, _ in accounts])
    names = np.concatenate([n for _, n in accounts])
    _, first = np.unique(hashes, return_index=True)
    by_name = first[np.argsort(names[first])]
    return pd.Index(hashes[by_name]), names[by_name]

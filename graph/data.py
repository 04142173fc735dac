"""The inputs of a detection run, as columns (numpy arrays), independent of any database."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from graph.signals.prompts import SIGNATURES
from graph.types import ACTIVITY_WINDOW_SECONDS


@dataclass(frozen=True)
class Accounts:
    """One row per account; every other table refers to accounts by row index."""

    ids: np.ndarray  # object (str)
    created: np.ndarray  # int64 epoch seconds
    org: np.ndarray  # object (str | None)
    email_domain: np.ndarray  # object (str | None)
    email_shape: np.ndarray  # object (str | None)
    requests: np.ndarray  # int64
    output_tokens: np.ndarray  # int64
    first_seen: np.ndarray  # int64 (0 if no requests)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Incidence:
    """Account -> value rows: the account has (used, declared) the value of ``kind``."""

    account: np.ndarray  # int32
    kind: np.ndarray  # int16 (graph.types.Kind)
    key: np.ndarray  # int64
    n: np.ndarray  # int64: how many requests (1 for declared values)


@dataclass(frozen=True)
class Activity:
    """Requests per account, time window and template (0 = no prompt)."""

    account: np.ndarray  # int32
    window: np.ndarray  # int64
    template: np.ndarray  # int64
    n: np.ndarray  # int64
    window_seconds: int = ACTIVITY_WINDOW_SECONDS


@dataclass(frozen=True)
class Templates:
    """Distinct templates by key: their skeletons (masked prompt texts) and, when ingest
    stored them, what grouping reads instead of the texts (``graph.signals.prompts``).

    Without ``bands`` (worlds and tests build inputs from texts) detection computes all three
    from ``skeleton``. With them, a skeleton may be ``None``: ingest keeps no text for a
    template only one account has used (it links nobody), its band keys still let it join a
    group when a near-duplicate arrives.
    """

    key: np.ndarray  # int64
    skeleton: list[str | None] = field(default_factory=list)
    bands: np.ndarray | None = None  # uint32 (templates x 2 * BANDS): LSH band keys
    words: np.ndarray | None = None  # int32: words per skeleton
    signature: np.ndarray | None = None  # int16: distillation signature code (0 = none)
    # which templates still have a stored text, when ``skeleton`` does not hold them all (a
    # database input reads the texts it shows only, after detection: see app.detection)
    has_text: np.ndarray | None = None  # bool

    def text_mask(self) -> np.ndarray:
        """Which templates have a skeleton text (stored, if not loaded)."""
        if self.has_text is not None:
            return self.has_text
        return np.fromiter((s is not None for s in self.skeleton), bool, len(self.skeleton))

    def texts_of(self, keys: np.ndarray) -> list[str | None]:
        """The loaded skeleton text of each template key (None when not loaded or unknown)."""
        if not self.skeleton or len(self.key) == 0:
            return [None] * len(keys)
        at = pd.Index(self.key).get_indexer(pd.Index(keys)).tolist()
        return [self.skeleton[i] if i >= 0 else None for i in at]


@dataclass(frozen=True)
class TemplateGroups:
    """Template key -> its group's key (sorted by template key), and the signature name of
    every group that carries one (sorted by group key)."""

    key: np.ndarray  # int64, sorted
    group: np.ndarray  # int64: the group key of ``key[i]``
    signed: np.ndarray  # int64, sorted: group keys with a signature
    signed_code: np.ndarray  # int16: the signature of ``signed[i]`` (1 + its SIGNATURES index)

    def of(self, keys: np.ndarray) -> np.ndarray:
        """The group key of each template key; a key not known is its own group."""
        keys = np.asarray(keys, dtype=np.int64)
        if len(self.key) == 0:
            return keys.copy()
        at = self._index.get_indexer(pd.Index(keys))  # a hash look-up: 5x a binary search
        return np.where(at >= 0, self.group[at], keys)

    def signature_code(self, groups: np.ndarray) -> np.ndarray:
        """The signature of each group key: 0 for none, ``1 + i`` for ``SIGNATURES[i]``."""
        groups = np.asarray(groups, dtype=np.int64)
        if len(self.signed) == 0:
            return np.zeros(len(groups), dtype=np.int16)
        at = self._signed_index.get_indexer(pd.Index(groups))
        return np.where(at >= 0, self.signed_code[at], 0).astype(np.int16)

    def signature(self, groups: np.ndarray) -> np.ndarray:
        """The signature name of each group key (``""`` for none), as objects."""
        return np.array(("", *SIGNATURES), dtype=object)[self.signature_code(groups)]

    def __len__(self) -> int:
        return len(self.key)

    @cached_property
    def _index(self) -> pd.Index:
        return pd.Index(self.key)

    @cached_property
    def _signed_index(self) -> pd.Index:
        return pd.Index(self.signed)


@dataclass(frozen=True)
class DetectionInput:
    accounts: Accounts
    incidence: Incidence
    activity: Activity
    templates: Templates
    # the templates' groups, when the reader grouped them already (a database input: its
    # 128-byte band keys a template, 1.6 GB at 12.7M templates, are let go once grouped)
    template_groups: TemplateGroups | None = None

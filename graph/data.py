"""The inputs of a detection run, as columns (numpy arrays), independent of any database."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

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
class DetectionInput:
    accounts: Accounts
    incidence: Incidence
    activity: Activity
    templates: Templates

"""Template groups: which near-duplicate templates count as one, and the distillation
signature each group carries, as sorted arrays (millions of one-off templates on real
traffic: no per-template Python objects).

>>> from graph.data import Templates
>>> t = Templates(np.array([30, 10, 20]), ["think step by step: <n> apples", "a poem", "hello"])
>>> g = group_templates(t)
>>> g.of(np.array([10, 99])).tolist(), g.signature(np.array([30, 10])).tolist()
([10, 99], ['reasoning', ''])
"""

from __future__ import annotations

import numpy as np

from graph.data import TemplateGroups, Templates
from graph.signals.prompts import TEMPLATE_SEED, grouping_features, groups_from_bands


def template_features(t: Templates, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Band keys, word counts and signature codes of the templates: the stored ones when the
    input carries them (computed at ingest with ``TEMPLATE_SEED``), else computed here from
    the skeleton texts. Two sources of keys, one grouping."""
    stored = t.bands is not None and t.words is not None and t.signature is not None
    if stored and seed == TEMPLATE_SEED:
        assert t.bands is not None and t.words is not None and t.signature is not None
        return t.bands, t.words, t.signature
    if any(s is None for s in t.skeleton):
        raise ValueError(
            f"template seed {seed}: band keys are stored for seed {TEMPLATE_SEED} only, and "
            "some templates have no skeleton text to compute them from"
        )
    return grouping_features([s or "" for s in t.skeleton], seed=seed)


def _prefer_text(labels: np.ndarray, has_text: np.ndarray) -> np.ndarray:
    """Group labels re-pointed at each group's first template that still has its text (a
    one-off template's text is dropped once it is known to link nobody; when a near-duplicate
    from another account joins it later, the group is named, and shown, by a kept text)."""
    if has_text.all():
        return labels
    n = len(labels)
    first = np.full(n, n)
    np.minimum.at(first, labels[has_text], np.flatnonzero(has_text))
    rep = first[labels]
    return np.where(rep < n, rep, labels)


def group_templates(t: Templates, seed: int = TEMPLATE_SEED) -> TemplateGroups:
    """Group the templates (``groups_from_bands``) and name each group's distillation
    signature: that of its first template carrying one, in key order."""
    key = np.asarray(t.key, dtype=np.int64)
    if len(key) == 0:
        empty = np.zeros(0, np.int64)
        return TemplateGroups(empty, empty, empty, np.zeros(0, np.int16))
    bands, words, codes = template_features(t, seed)
    has_text = t.text_mask()
    if (key[1:] < key[:-1]).any():  # a database input comes sorted: no copy of its bands
        order = np.argsort(key, kind="stable")
        key, bands, words, codes = key[order], bands[order], words[order], codes[order]
        has_text = has_text[order]
    labels = _prefer_text(groups_from_bands(bands, words), has_text)
    group = key[labels]
    signed = np.flatnonzero(codes > 0)
    # the first signed template of each group, in key order (np.unique keeps first indices)
    groups, first = np.unique(group[signed], return_index=True)
    signed_code = codes[signed[first]].astype(np.int16)
    return TemplateGroups(key, group, groups.astype(np.int64), signed_code)

"""Prompt template fingerprints and the distillation signature.

A *skeleton* is a prompt with its slot fillers masked, so that ``"what is 17 * 23?"`` and
``"what is 29 * 31?"`` reduce to the same template. Ingest computes it once per request
(cheap regexes, no MinHash); detection then groups lightly paraphrased skeletons with MinHash
LSH over the distinct skeletons only (see :func:`template_groups`).

>>> skeleton("Think step by step: what is 17 * 23?")
'think step by step: what is <n> * <n>?'
>>> skeleton('Translate "good morning" into French') == skeleton('Translate "hello" into French')
True
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

SKELETON_CHARS = 240

_URL = re.compile(r"https?://\S+|www\.\S+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_QUOTED = re.compile(r"\"[^\"]{0,400}\"|'[^']{0,400}'|“[^”]{0,400}”|`[^`]{0,400}`")
_NUMBERISH = re.compile(r"\b[0-9a-f]{8,}\b|\b\w*\d\w*\b")


def skeleton(prompt: str) -> str:
    """Mask URLs, emails, quoted text, numbers and identifiers; fold case and spaces.

    Each mask runs only when a cheap substring test says it can match: this is on the
    ingest hot path (one call per request).
    """
    text = prompt[: SKELETON_CHARS * 4].lower()
    if "http" in text or "www." in text:
        text = _URL.sub("<url>", text)
    if "@" in text:
        text = _EMAIL.sub("<email>", text)
    text = _QUOTED.sub("<q>", text)
    text = _NUMBERISH.sub("<n>", text)
    return " ".join(text.split())[:SKELETON_CHARS]


_SIGNATURES: dict[str, re.Pattern[str]] = {
    "reasoning": re.compile(
        r"step[- ]by[- ]step|show (all )?(of )?your (reasoning|work|thinking)"
        r"|chain[- ]of[- ]thought"
        r"|reason(ing)? (through|carefully)|explain your reasoning|think (carefully|aloud)"
    ),
    "agentic": re.compile(
        r"tool[_ ]call|function[_ ]call|<tool|\btools?\b.*\bjson\b|observation:|action input"
        r"|you are an? (autonomous )?agent|available tools"
    ),
    "grading": re.compile(
        r"\brubric\b|grade (the|this)|score (the|this) (following )?(answer|response)"
        r"|rate the (answer|response)|on a scale of"
    ),
}


def signature(skel: str) -> str | None:
    """The distillation signature a template carries, if any.

    >>> signature("think step by step: what is <n> * <n>?")
    'reasoning'
    >>> signature("translate <q> into french") is None
    True
    """
    for name, pattern in _SIGNATURES.items():
        if pattern.search(skel):
            return name
    return None


def _shingles(text: str, k: int = 4) -> set[bytes]:
    words = text.split()
    if len(words) < k:
        return {text.encode()}
    return {" ".join(words[i : i + k]).encode() for i in range(len(words) - k + 1)}


def template_groups(
    skeletons: Sequence[str],
    *,
    num_perm: int = 64,
    bands: int = 16,
    seed: int = 1,
) -> np.ndarray:
    """Group near-duplicate skeletons (light paraphrase) with MinHash LSH.

    Returns one group label per skeleton; labels are the index of a representative.
    The cost is linear in the number of distinct skeletons, not in requests.

    >>> template_groups(["summarise the text <q> in <n> words please now",
    ...                  "summarise the text <q> in <n> words please today",
    ...                  "write a poem about the sea"]).tolist()
    [0, 0, 2]
    """
    n = len(skeletons)
    labels = np.arange(n)
    if n < 2:
        return labels
    rows = num_perm // bands
    rng = np.random.default_rng(seed)
    prime = np.uint64((1 << 61) - 1)
    a = rng.integers(1, (1 << 61) - 1, size=num_perm, dtype=np.uint64)
    b = rng.integers(0, (1 << 61) - 1, size=num_perm, dtype=np.uint64)
    sigs = np.empty((n, num_perm), dtype=np.uint64)
    for i, skel in enumerate(skeletons):
        hashes = np.fromiter((hash_bytes(s) for s in _shingles(skel)), dtype=np.uint64, count=-1)
        with np.errstate(over="ignore"):
            perm = (hashes[:, None] * a[None, :] + b[None, :]) % prime
        sigs[i] = perm.min(axis=0)
    parent = np.arange(n)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = int(parent[x])
        return x

    for band in range(bands):
        chunk = np.ascontiguousarray(sigs[:, band * rows : (band + 1) * rows])
        keys = chunk.view(np.dtype((np.void, chunk.dtype.itemsize * rows))).ravel()
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        same = sorted_keys[1:] == sorted_keys[:-1]
        for j in np.flatnonzero(same):
            ra, rb = find(int(order[j])), find(int(order[j + 1]))
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    return np.array([find(i) for i in range(n)])


def hash_bytes(data: bytes) -> int:
    """A stable 64-bit hash (unkeyed; for shingles and skeleton ids, never personal data)."""
    import hashlib

    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")

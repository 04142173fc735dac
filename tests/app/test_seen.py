"""The ingest's memory of templates and senders (app.ingest.seen): a Bloom filter never
forgets what it was told and rarely claims what it was not."""

from __future__ import annotations

import numpy as np

from app.ingest.seen import SeenSet, pair_keys


def test_added_keys_are_always_found_and_others_rarely() -> None:
    rng = np.random.default_rng(7)
    keys = rng.integers(-(2**63), 2**63 - 1, 200_000, dtype=np.int64)
    seen = SeenSet()
    seen.add(keys[:100_000])
    assert seen.contains(keys[:100_000]).all()
    assert seen.contains(keys[100_000:]).mean() < 0.001
    assert int(keys[0]) in seen


def test_small_and_sequential_keys_spread_too() -> None:
    # template keys are digests, but account hashes and tests' keys can be small integers
    seen = SeenSet()
    seen.add(np.arange(0, 50_000, dtype=np.int64))
    assert seen.contains(np.arange(0, 50_000, dtype=np.int64)).all()
    assert seen.contains(np.arange(50_000, 150_000, dtype=np.int64)).mean() < 0.01


def test_pairs_tell_senders_apart() -> None:
    t = np.array([11, 11, 12], dtype=np.int64)
    a = np.array([1, 2, 1], dtype=np.int64)
    keys = pair_keys(t, a)
    assert len(set(keys.tolist())) == 3
    assert pair_keys(t[:1], a[:1])[0] == keys[0]

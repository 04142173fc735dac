"""The ingest's memory of templates and senders (app.ingest.seen): a Bloom filter never
forgets what it was told and rarely claims what it was not."""

from __future__ import annotations

import numpy as np

from app.ingest.seen import SeenSet, StoredKeys, pair_keys


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


def test_stored_keys_answer_exactly_per_kind_across_merged_levels() -> None:
    rng = np.random.default_rng(7)
    stored = StoredKeys()
    truth: set[tuple[int, int]] = set()
    for batch in range(40):  # levels are merged as they come
        keys = rng.integers(-(2**63), 2**63 - 1, size=500, dtype=np.int64)
        kinds = rng.integers(1, 4, size=500).astype(np.int64)
        known = stored.contains(kinds, keys)
        assert known.tolist() == [
            (k, v) in truth for k, v in zip(kinds.tolist(), keys.tolist(), strict=True)
        ]
        fresh = ~known
        stored.add(kinds[fresh], keys[fresh])
        truth |= set(zip(kinds[fresh].tolist(), keys[fresh].tolist(), strict=True))
        if batch % 5 == 0:  # some keys again, under their own kind and under another
            again = np.array(sorted(truth)[:50], dtype=np.int64)
            assert stored.contains(again[:, 0], again[:, 1]).all()
            other = np.where(again[:, 0] == 1, 2, 1)
            want = [
                (k, v) in truth for k, v in zip(other.tolist(), again[:, 1].tolist(), strict=True)
            ]
            assert stored.contains(other, again[:, 1]).tolist() == want


def test_stored_keys_forget_everything_past_their_limit() -> None:
    stored = StoredKeys(limit=10)
    one = np.ones(8, dtype=np.int64)
    stored.add(one, np.arange(8, dtype=np.int64))
    assert stored.contains(one, np.arange(8, dtype=np.int64)).all()
    stored.add(one[:4], np.arange(100, 104, dtype=np.int64))  # 12 > 10: the first 8 go
    assert not stored.contains(one, np.arange(8, dtype=np.int64)).any()
    assert stored.contains(one[:4], np.arange(100, 104, dtype=np.int64)).all()

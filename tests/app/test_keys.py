"""Link keys: keyed BLAKE2b per value space, stable across calls and releases."""

from __future__ import annotations

from hashlib import blake2b

import numpy as np

from app.core.hashing import Hasher, content_key, content_keys


def _definition(secret: bytes, space: str, value: str) -> int:
    digest = blake2b(value.encode(), digest_size=8, key=secret, person=space.encode()).digest()
    return int.from_bytes(digest, "little", signed=True)


def test_keys_are_keyed_blake2b_per_space() -> None:
    secret = b"s" * 40
    h = Hasher(secret)
    for space in ("ip", "ip_range", "user_agent"):
        for value in ("", "10.0.0.1", "é" * 300):
            # twice: the keyed state is reused, never updated in place
            assert h(space, value) == h(space, value) == _definition(secret, space, value)
    assert h("ip", "10.0.0.1") != h("ip_range", "10.0.0.1")
    assert Hasher(b"t" * 40)("ip", "10.0.0.1") != h("ip", "10.0.0.1")


def test_content_keys_match_one_by_one() -> None:
    items = [b"", b"id:req_1", b'{"type": "request"}']
    assert content_keys(items).tolist() == [content_key(i) for i in items]
    assert content_keys([]).dtype == np.int64

"""Link keys: keyed BLAKE2b per value space, stable across calls and releases."""

from __future__ import annotations

import os
from hashlib import blake2b

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core import hashing
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


# ------------------------------------------------------------------ many values in one call
_VALUES = st.lists(
    st.one_of(st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.hex())), max_size=8
)


@pytest.fixture(params=["compiled", "python"])
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "compiled":
        if hashing._digests is None and os.environ.get("HYDRASCOPE_REQUIRE_KERNELS") != "1":
            pytest.skip("app.core._digests was not built (no C compiler at install)")
        assert hashing._digests is not None, "HYDRASCOPE_REQUIRE_KERNELS: the build fell back"
    else:
        monkeypatch.setattr(hashing, "_digests", None)
    return str(request.param)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=_VALUES,
    secret=st.binary(min_size=1, max_size=80),
    space=st.sampled_from(["ip", "ip_range", "user_agent", "a_space_longer_than_16"]),
)
def test_many_keys_match_one_by_one(
    path: str, values: list[str], secret: bytes, space: str
) -> None:
    h = Hasher(secret)
    got = h.many(space, values)
    assert got.dtype == np.int64
    assert got.tolist() == [h(space, v) for v in values]


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(items=st.lists(st.binary(max_size=400), max_size=8), texts=_VALUES)
def test_content_keys_of_bytes_and_text(path: str, items: list[bytes], texts: list[str]) -> None:
    assert content_keys(items).tolist() == [content_key(i) for i in items]
    assert content_keys(texts).tolist() == [content_key(t.encode()) for t in texts]


def test_compiled_digests_at_block_edges() -> None:
    # messages of 0, 1, 127-129, 255-257 bytes, unkeyed and with keys of 1 and 64 bytes
    if hashing._digests is None:
        pytest.skip("app.core._digests was not built (no C compiler at install)")
    for key in (b"", b"k", bytes(range(64))):
        for person in (b"", b"ip_range"):
            items = [bytes(range(256))[:n] for n in (0, 1, 127, 128, 129, 255, 256)]
            items.append(b"x" * 257)
            got = hashing._digests.digests8(items, key, person)
            want = b"".join(
                blake2b(i, digest_size=8, key=key, person=person).digest() for i in items
            )
            assert got == want
    with pytest.raises(TypeError, match="item 1"):
        hashing._digests.digests8([b"a", 3], b"", b"")
    with pytest.raises(ValueError, match="key longer"):
        hashing._digests.digests8([b"a"], b"k" * 65, b"")

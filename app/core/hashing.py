"""Keyed hashing of personal values into 64-bit link keys.

The same value always gives the same key within one deployment (so accounts can be linked),
and without the deployment's secret a key cannot be tested against a guessed email or IP.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import blake2b
from typing import Any

import numpy as np

try:  # compiled where a C compiler was found at install (setup.py); same digests
    from app.core import _digests
except ImportError:  # pragma: no cover - exercised where the build fell back
    _digests = None  # type: ignore[assignment]


class Hasher:
    def __init__(self, secret: bytes) -> None:
        if not secret:
            raise ValueError("a hashing secret is required")
        self._secret = secret[:64]
        self._keyed: dict[str, Any] = {}  # space -> hash state after the key block

    def __call__(self, space: str, value: str) -> int:
        # Keying costs a whole compression of the key block; copying the keyed state of the
        # space is cheaper and gives the same digest.
        keyed = self._keyed.get(space)
        if keyed is None:
            keyed = self._keyed[space] = blake2b(
                digest_size=8, key=self._secret, person=space.encode()[:16]
            )
        h = keyed.copy()
        h.update(value.encode())
        return int.from_bytes(h.digest(), "little", signed=True)

    def many(self, space: str, values: Sequence[str]) -> np.ndarray:
        """The key of each of ``values`` in ``space`` (as :meth:`__call__`), as int64."""
        if _digests is not None:
            person = space.encode()[:16]
            return _as_keys(_digests.digests8(values, self._secret, person))
        return np.fromiter((self(space, v) for v in values), dtype=np.int64, count=len(values))


def content_key(data: bytes) -> int:
    """Unkeyed 64-bit digest for deduplication and template ids (not personal data)."""
    return int.from_bytes(blake2b(data, digest_size=8).digest(), "little", signed=True)


def content_keys(items: Sequence[bytes | str]) -> np.ndarray:
    """:func:`content_key` of each item (a ``str`` as UTF-8), as int64: the digests are
    joined and read as little-endian integers at once instead of converted one by one."""
    if _digests is not None:
        return _as_keys(_digests.digests8(items, b"", b""))
    digests = b"".join(
        [blake2b(i.encode() if isinstance(i, str) else i, digest_size=8).digest() for i in items]
    )
    return _as_keys(digests)


def _as_keys(digests: bytes) -> np.ndarray:
    return np.frombuffer(digests, dtype="<i8").astype(np.int64)

# Types of the compiled module built from _digests.c (see app.core.hashing).
from collections.abc import Sequence

def digests8(items: Sequence[bytes | str], key: bytes, person: bytes, /) -> bytes: ...

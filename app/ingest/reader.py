"""Open NDJSON inputs (plain or gzip, by content) and cut them into numbered line chunks."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from itertools import islice
from typing import Any, BinaryIO, cast

GZIP_MAGIC = b"\x1f\x8b"


def maybe_gunzip(stream: BinaryIO) -> BinaryIO:
    """Wrap ``stream`` in a gzip reader when its first bytes say it is gzip."""
    buffered: Any = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(stream)
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        return cast(BinaryIO, gzip.GzipFile(fileobj=buffered, mode="rb"))
    return cast(BinaryIO, buffered)


def line_chunks(stream: BinaryIO, size: int) -> Iterator[tuple[int, list[bytes]]]:
    """Yield ``(first_line_number, lines)``; line numbers start at 1."""
    line_no = 1
    while True:
        chunk = list(islice(stream, size))
        if not chunk:
            return
        yield line_no, chunk
        line_no += len(chunk)

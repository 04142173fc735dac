"""Open NDJSON inputs (plain or gzip, by content) and cut them into numbered blocks of lines."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from typing import Any, BinaryIO, cast

import numpy as np

GZIP_MAGIC = b"\x1f\x8b"
_NL = ord("\n")


def maybe_gunzip(stream: BinaryIO) -> BinaryIO:
    """Wrap ``stream`` in a gzip reader when its first bytes say it is gzip."""
    buffered: Any = stream if isinstance(stream, io.BufferedReader) else io.BufferedReader(stream)
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        return cast(BinaryIO, gzip.GzipFile(fileobj=buffered, mode="rb"))
    return cast(BinaryIO, buffered)


def line_blocks(
    stream: BinaryIO, size: int, read_bytes: int = 1 << 22
) -> Iterator[tuple[int, bytes, int]]:
    """Yield ``(first_line_number, block, line_count)``: ``size`` whole lines per block.

    Lines are cut by ``\n`` only (as iterating a binary file does), the last block may hold
    fewer, and a last line without ``\n`` counts. The input is read in large pieces and a
    block travels to a worker as one bytes object: no per-line Python objects here.
    """
    line_no = 1
    carry = b""
    have = 0  # newlines in carry
    eof = False
    while True:
        parts = [carry]
        while have < size and not eof:
            data = stream.read(read_bytes)
            if not data:
                eof = True
                break
            parts.append(data)
            have += data.count(b"\n")
        block = b"".join(parts)
        if not block:
            return
        if have >= size:
            newlines = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == _NL)
            cut = int(newlines[size - 1]) + 1
            block, carry, count = block[:cut], block[cut:], size
            have -= size
        else:
            carry, count = b"", have + (0 if block.endswith(b"\n") else 1)
            have = 0
        yield line_no, block, count
        line_no += count


def split_lines(block: bytes) -> list[bytes]:
    """The lines of a block from :func:`line_blocks` (without their ``\n``)."""
    lines = block.split(b"\n")
    if block.endswith(b"\n"):
        lines.pop()
    return lines

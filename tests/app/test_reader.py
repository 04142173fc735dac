"""Cutting input into numbered blocks of lines: the same lines as iterating the file."""

from __future__ import annotations

import io
import tempfile

from hypothesis import given, settings
from hypothesis import strategies as st

from app.ingest.reader import line_blocks, line_spans, read_span, split_lines

# file contents, lines per block, bytes per read
FILE_BLOCK_READ = (
    st.lists(st.sampled_from([b"a", b"{}", b"\n", b"\r", b"\r\n", b" "]), max_size=60).map(
        b"".join
    ),
    st.integers(1, 7),
    st.integers(1, 9),
)


@settings(max_examples=300, deadline=None)
@given(*FILE_BLOCK_READ)
def test_blocks_hold_the_lines_of_the_file_in_order(data: bytes, size: int, read: int) -> None:
    expected = [line.removesuffix(b"\n") for line in io.BytesIO(data)]
    got: list[bytes] = []
    next_line = 1
    for first, block, count in line_blocks(io.BytesIO(data), size, read_bytes=read):
        lines = split_lines(block)
        assert first == next_line and count == len(lines) and 1 <= count <= size
        got.extend(lines)
        next_line += count
    assert got == expected


@settings(max_examples=300, deadline=None)
@given(*FILE_BLOCK_READ, st.integers(0, 3))
def test_spans_are_the_blocks_as_byte_ranges_of_the_file(
    data: bytes, size: int, read: int, skip: int
) -> None:
    # a file whose first bytes were already consumed (offsets still count from its start)
    skip = min(skip, len(data))
    blocks = list(line_blocks(io.BytesIO(data[skip:]), size, read_bytes=read))
    with tempfile.TemporaryFile() as fh:
        fh.write(data)
        fh.seek(skip)
        spans = list(line_spans(fh, size, read_bytes=read))
        got = [(first, read_span(fh.fileno(), off, n), count) for first, off, n, count in spans]
    assert got == blocks

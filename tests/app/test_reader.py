"""Cutting input into numbered blocks of lines: the same lines as iterating the file."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from app.ingest.reader import line_blocks, split_lines


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([b"a", b"{}", b"\n", b"\r", b"\r\n", b" "]), max_size=60).map(
        b"".join
    ),
    st.integers(1, 7),
    st.integers(1, 9),
)
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

"""app.core.heap: inside a run, large arrays come from the heap and are not handed back to
the system when freed; outside, glibc's defaults apply again."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from app.core import heap

BLOCK = 64 << 20  # above glibc's largest mmap threshold (32 MiB)


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _mapped_bytes() -> int:
    """Bytes glibc holds in blocks of their own (``mmap``), from ``mallinfo2``."""
    libc = heap._glibc()
    if libc is None or not hasattr(libc, "mallinfo2"):
        pytest.skip("needs glibc >= 2.33 (mallinfo2)")
    libc.mallinfo2.restype = _MallInfo2
    return int(libc.mallinfo2().hblkhd)


def _grown_by_array() -> int:
    before = _mapped_bytes()
    block = np.ones(BLOCK, dtype=np.uint8)
    grown = _mapped_bytes() - before
    del block
    return grown


def test_large_blocks_come_from_the_heap_only_inside_a_run() -> None:
    assert _grown_by_array() >= BLOCK  # glibc's default: a block of its own
    with heap.retained_heap() as told:
        assert told
        assert _grown_by_array() == 0
        with heap.retained_heap():  # nested: still retained, and the outer exit restores
            assert _grown_by_array() == 0
        assert _grown_by_array() == 0
    assert _grown_by_array() >= BLOCK


def test_defaults_come_back_when_the_run_fails() -> None:
    with pytest.raises(RuntimeError), heap.retained_heap():
        raise RuntimeError("run failed")
    assert _grown_by_array() >= BLOCK


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096
    except OSError:
        pytest.skip("needs /proc/self/statm")


def test_release_hands_what_a_stage_freed_back() -> None:
    with heap.retained_heap():
        block = np.ones(BLOCK, dtype=np.uint8)  # written: resident
        del block
        kept = _resident_bytes()
        heap.release()
        assert kept - _resident_bytes() >= BLOCK // 2

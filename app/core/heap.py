"""Keep freed memory in the process while a detection run works (glibc's allocator only).

A run allocates and frees NumPy arrays of tens to hundreds of megabytes over and over. glibc
serves every block above 32 MiB (its largest threshold) with a fresh ``mmap`` and hands it
back with ``munmap`` when freed, and a thread's arena (the reading and band threads) gives
back each 64 MiB heap it empties, so each new array's pages are faulted in and zeroed by the
kernel again: at 100,000 realistic accounts 11.9 GB went back to the system during one run
(strace), and page zeroing was the largest single item of the run's CPU profile (14% of
samples, ``clear_page_erms``). Inside :func:`retained_heap` large blocks come from the
heap too and freed memory stays there for the next array, and :func:`single_arena` (called
by ``hydrascope detect`` before any thread starts) has the threads allocate from that heap
(0.38 GB given back in the same run; run 3 times each, interleaved, on a machine with a
world being generated beside: 20.4-20.8 s against 21.0-21.9 s, CPU 20.8-21.3 against
21.5-22.3 s, same peak). At the end the defaults come back and ``malloc_trim`` returns what
is free to the system, so a long-lived server does not keep a run's peak.
"""

from __future__ import annotations

import ctypes
import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8
#: glibc's defaults (malloc.c: DEFAULT_MMAP_MAX, DEFAULT_TRIM_THRESHOLD)
_DEFAULT_MMAP_MAX = 65536
_DEFAULT_TRIM_THRESHOLD = 128 * 1024
#: ``mallopt`` takes an int: free memory at the top of the heap is kept up to 2 GiB
_KEEP = 2**31 - 1

_lock = threading.Lock()
_depth = 0


@functools.cache
def _glibc() -> Any | None:
    """The C library when it is glibc (``gnu_get_libc_version`` exists), else None."""
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    if not all(hasattr(libc, f) for f in ("gnu_get_libc_version", "mallopt", "malloc_trim")):
        return None
    libc.malloc_trim.argtypes = [ctypes.c_size_t]
    return libc


def single_arena() -> bool:
    """Have every thread allocate from the main heap (glibc's ``M_ARENA_MAX`` = 1), so
    that :func:`retained_heap` keeps what threads free too. glibc fixes its arena limit
    when a thread first needs an arena of its own, so this works only when called before
    the process starts threads (a command's start); later it changes nothing. Returns
    whether the allocator could be told."""
    libc = _glibc()
    return libc is not None and bool(libc.mallopt(_M_ARENA_MAX, 1))


def keep_free(limit: int) -> bool:
    """From now on, let this process keep up to ``limit`` bytes of freed memory for reuse:
    blocks below that size come from the heap, and the heap's free top goes back to the
    system only beyond it (glibc's ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD``; their
    defaults adapt between 128 KiB and 32 MiB). For a process that repeats one job (an ingest
    worker: each batch allocates about what the last one freed). Returns whether the
    allocator could be told."""
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_TRIM_THRESHOLD, limit)) and bool(
        libc.mallopt(_M_MMAP_THRESHOLD, limit)
    )


def release() -> None:
    """Hand the heap's free memory back to the system now (``malloc_trim``): called between
    a run's stages, so what one stage freed and the next cannot reuse does not add up to a
    higher peak."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


@contextmanager
def retained_heap() -> Iterator[bool]:
    """Run the block with large blocks served from the heap and freed memory kept; yields
    whether the allocator could be told (glibc). Nested and concurrent uses are counted:
    the defaults come back when the last one ends.

    >>> with retained_heap() as told:
    ...     told in (True, False)
    True
    """
    global _depth
    libc = _glibc()
    if libc is None:
        yield False
        return
    with _lock:
        if _depth == 0:
            libc.mallopt(_M_MMAP_MAX, 0)
            libc.mallopt(_M_TRIM_THRESHOLD, _KEEP)
        _depth += 1
    try:
        yield True
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                libc.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX)
                libc.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM_THRESHOLD)
                libc.malloc_trim(0)

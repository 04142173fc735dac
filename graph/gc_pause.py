"""Pause Python's cyclic garbage collector while building many acyclic objects.

Building millions of small containers (edge tuples, row dicts) triggers the collector's
full passes, each of which walks every live container: at a million-account run that costs
more than building the objects. Reference counting still frees everything as usual; only the
search for reference cycles waits. Nested and concurrent pauses are counted, so the
collector comes back when the last one ends (and only if it was on before the first).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """Run the block with the cyclic collector off.

    >>> with paused_gc():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()

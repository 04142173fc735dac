"""Start the ingest's worker processes, before the ingest's own imports.

A spawned worker imports what it needs to prepare batches (NumPy, pandas, msgspec, the
ingest's modules: ~0.5 s of CPU) before it can take one, and the ingest command's process
imports what it needs to write them (SQLAlchemy, the repository: ~0.4 s) before it
starts them: one after the other, both cores idle in turn (realistic 50k file: the first
batch came back ~2 s after the command started). This module imports nothing of the ingest,
so the CLI starts the workers first and their imports run beside its own; the settings they
need travel with each batch (:class:`app.ingest.prepare.WorkerTask`).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import types
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager


def start(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes, each already starting (the pool would otherwise start
    them at the first batch)."""
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_initialise,
        initargs=(os.getpid(),),
    )
    with _main_left_behind():
        for _ in range(workers):  # one process a task until there are ``workers``
            pool.submit(os.getpid)
    return pool


_SWAPPING = threading.Lock()


@contextmanager
def _main_left_behind() -> Iterator[None]:
    """Start processes without the main module: a spawned process first runs the parent's
    main module again (as ``__mp_main__``), from its file or, for ``python -m``, by its name,
    and the ``hydrascope`` console script imports the whole command line (``app.cli``:
    ~0.35 s of CPU a worker, at start-up, for nothing a worker uses: its tasks are functions
    of the ingest's modules). A main module with neither a file nor a spec is not run again
    (:func:`multiprocessing.spawn.get_preparation_data` reads it while ``submit`` starts a
    process). One swap at a time: two threads starting pools at once would otherwise put
    each other's stand-in back."""
    with _SWAPPING:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = main


def _initialise(parent: int) -> None:
    from app.ingest.prepare import init_worker  # the worker's imports, in the worker

    init_worker(parent)

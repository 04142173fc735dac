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
from concurrent.futures import ProcessPoolExecutor


def start(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes, each already starting (the pool would otherwise start
    them at the first batch)."""
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_initialise,
        initargs=(os.getpid(),),
    )
    for _ in range(workers):  # one process a task until there are ``workers``
        pool.submit(os.getpid)
    return pool


def _initialise(parent: int) -> None:
    from app.ingest.prepare import init_worker  # the worker's imports, in the worker

    init_worker(parent)

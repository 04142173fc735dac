"""Prepared batches handed from the ingest's worker processes to the writer through files.

A worker's prepared batch is ~17-23 MB pickled on the realistic 50k file (most of it the
sample candidates' prompt texts). Returned through the process pool's result pipe, the
writing process spent ~25-45 ms of CPU a batch receiving it (the pipe holds 64 KiB, and each
read allocates and copies again) on top of unpickling it: ~2 s of the writer's time over
the file, with the writer as the ingest's bottleneck. Written to a file by the worker and
read back by the writer, the same batch costs the writer ~15 ms, unpickling included
(measured side by side, docs/performance.md, "twelfth pass").

A spool :func:`directory` is a private directory (mode 0700, under the system's temporary directory,
``TMPDIR`` honoured) made for one ingest: only this user's processes can put a file there,
so what the writer unpickles was written by its own workers. Each file is deleted as soon
as it is read; the directory is removed when the ingest ends, and by the workers if the
ingest is killed (:func:`app.ingest.prepare.init_worker`). At most the batches in flight
(up to workers + 7 from a plain file, app.ingest.service.SPOOLED_AHEAD) wait there at once:
~200 MB with two workers on the realistic file. They hold what a batch holds (account
details, IPs, prompt texts): docs/architecture.md, "Personal data", says where they go. An
ingest killed with its whole process group (``kill -9 -PGID``, a container killed) leaves its
directory behind; SIGTERM and SIGHUP stop a CLI ingest like Ctrl-C, which removes it.
"""

from __future__ import annotations

import glob
import itertools
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

_PICKLE_PROTOCOL = 5


@dataclass(frozen=True, slots=True)
class Spooled:
    """Where a worker left one result (what crosses the pool's pipe instead of the result)."""

    path: str


_PREFIX = "hydrascope-ingest-"


@contextmanager
def directory() -> Iterator[str]:
    """A private directory for one ingest's results; removed on leaving, with what is left.
    Its name holds this process's id (:func:`remove_orphans`)."""
    path = tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-")
    try:
        yield path
    finally:
        remove(path)


def remove_orphans(parent: int) -> None:
    """Remove the spool directories that the ingest process ``parent`` made (a worker's side,
    once that process is gone without removing them)."""
    for path in glob.glob(os.path.join(tempfile.gettempdir(), f"{_PREFIX}{parent}-*")):
        remove(path)


_names = itertools.count()


def put(directory: str, obj: Any) -> Spooled:
    """Write ``obj`` to a new file in ``directory`` (a worker's side)."""
    path = os.path.join(directory, f"{os.getpid()}-{next(_names)}.pickle")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)  # Windows: no CRLF
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as fh:
        pickle.dump(obj, fh, protocol=_PICKLE_PROTOCOL)
    return Spooled(path)


def take(spooled: Spooled) -> Any:
    """Read back what :func:`put` wrote, and delete its file (the writer's side)."""
    try:
        with open(spooled.path, "rb") as fh:
            return pickle.load(fh)
    finally:
        os.unlink(spooled.path)


def remove(directory: str, attempts: int = 5) -> None:
    """Remove ``directory`` and its files; again if a file appeared meanwhile (a worker
    finishing a batch while its ingest's directory is removed)."""
    for _ in range(attempts):
        shutil.rmtree(directory, ignore_errors=True)
        if not os.path.exists(directory):
            return

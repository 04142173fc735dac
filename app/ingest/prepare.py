"""The CPU half of ingest: parse, validate, normalise and reduce one chunk of lines.

It needs no database, so it runs in worker processes while the parent process writes the
previous chunk (see :class:`app.ingest.service.Ingestor`).
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from app.core.hashing import Hasher
from app.core.heap import keep_free, release
from app.ingest import spool
from app.ingest.grouping import Columns
from app.ingest.normalise import account_row, payment_row
from app.ingest.reader import read_span, split_lines
from app.ingest.reduce import (
    Aggregates,
    RequestColumns,
    RequestReducer,
    aggregate,
    template_rows,
)
from app.ingest.validate import BlockScan, RecordError, scan_block, validate_chunk
from graph.types import Kind


@dataclass(slots=True)
class Prepared:
    """One prepared batch. A worker's result leaves out the request columns (a third of its
    size, needed only when some of the batch's requests were stored before): the parent
    prepares the batch again from ``source`` in that case (see :meth:`request_columns`)."""

    first_line: int
    line_count: int
    read: int
    accounts: list[dict[str, Any]]
    payments: list[dict[str, Any]]
    errors: list[RecordError]
    dedupe: np.ndarray  # one digest per valid request, in order
    new_values: list[tuple[int, int, str]]  # display values (templates: ``templates``)
    templates: Columns  # the new templates' band keys (app.ingest.reduce.template_rows)
    requests: RequestColumns | None
    aggregates: Aggregates | None
    source: bytes | tuple[str, int, int] | None = None  # the block, or (path, offset, length)

    def request_columns(self, preparer: Preparer) -> RequestColumns:
        if self.requests is not None:
            return self.requests
        if isinstance(self.source, bytes):
            block = self.source
        elif self.source is not None:
            path, offset, length = self.source
            fd = os.open(path, os.O_RDONLY)
            try:
                block = read_span(fd, offset, length)
            finally:
                os.close(fd)
        else:
            raise RuntimeError("a worker's batch without its source cannot be prepared again")
        requests = preparer(self.first_line, block).requests
        assert requests is not None
        return requests


SLICE_LINES = 10_000  # lines validated at once within a block (bounds the dicts alive)


class Preparer:
    def __init__(self, secret: bytes, window_seconds: int, samples_per_template: int) -> None:
        self.hasher = Hasher(secret)
        self.window_seconds = window_seconds
        self.samples_per_template = samples_per_template
        self.reducer = RequestReducer(self.hasher)

    def __call__(self, first: int, block: bytes) -> Prepared:
        """Prepare one block of lines from :func:`app.ingest.reader.line_blocks`."""
        lines = split_lines(block)
        return self.lines(first, lines, scan_block(block, lines))

    def lines(self, first: int, lines: list[bytes], scan: BlockScan | None = None) -> Prepared:
        """Prepare numbered lines (``first`` is the first's number); ``scan``: the card-number
        scan of the block they were cut from, when there is one.

        Lines are parsed, validated and turned into columns a slice at a time, so that the
        per-record dicts of only one slice are alive at once (they are most of a worker's
        memory); the columns of the whole block are then grouped together.
        """
        now = datetime.now(UTC)
        read = 0
        accounts: list[dict[str, Any]] = []
        payments: list[dict[str, Any]] = []
        errors: list[RecordError] = []
        parts: list[RequestColumns] = []
        for start in range(0, max(len(lines), 1), SLICE_LINES):
            chunk = validate_chunk(lines[start : start + SLICE_LINES], first + start, scan, start)
            read += chunk.read
            errors.extend(chunk.errors)
            for rec, line in zip(chunk.accounts, chunk.account_lines, strict=True):
                row = account_row(rec, line, self.hasher, now)
                if isinstance(row, RecordError):
                    errors.append(row)
                else:
                    accounts.append(row)
            payments.extend(payment_row(p, self.hasher, now) for p in chunk.payments)
            parts.append(
                self.reducer.columns(
                    chunk.requests, chunk.request_times, chunk.request_raw, chunk.request_lines
                )
            )
            del chunk
        cols = RequestColumns.concat(parts)
        errors.extend(cols.errors)
        errors.sort(key=lambda e: e.line)
        agg = aggregate(cols, self.window_seconds, self.samples_per_template) if len(cols) else None
        # The columns keep their prompt and skeleton texts: a batch some of whose requests
        # were stored before is grouped again from them (Prepared.request_columns), samples
        # and skeleton texts included. A worker's result leaves the columns out, so texts
        # cross the process boundary only as the sample candidates.
        tpl = int(Kind.TEMPLATE)
        return Prepared(
            first,
            len(lines),
            read,
            accounts,
            payments,
            errors,
            cols.dedupe,
            [v for v in cols.new_values if v[0] != tpl],
            template_rows(cols.new_values),
            cols,
            agg,
        )


@dataclass(frozen=True, slots=True)
class WorkerTask:
    """What a worker needs besides the lines, sent with each batch (a few dozen bytes), so
    that workers can be started before the ingest that uses them is configured
    (:mod:`app.ingest.workers`)."""

    secret: bytes
    window_seconds: int
    samples_per_template: int
    spool_dir: str  # results go through files there (app.ingest.spool)


_WORKER: tuple[WorkerTask, Preparer] | None = None
#: Freed memory a worker keeps for its next batch (app.core.heap.keep_free)
WORKER_KEEPS_BYTES = 32 << 20
_KEEPS_FREE = False


def init_worker(parent: int) -> None:
    """Set up a worker process of the ingest ``parent``: it ends when that process is gone,
    runs at a lower priority and keeps some freed memory for its next batch."""
    global _KEEPS_FREE
    _exit_with(parent)
    _yield_to_writer()
    _KEEPS_FREE = keep_free(WORKER_KEEPS_BYTES)


def _preparer(task: WorkerTask) -> Preparer:
    """The worker's preparer for ``task`` (kept while tasks come with the same settings: its
    caches of keyed values span batches)."""
    global _WORKER
    if _WORKER is None or _WORKER[0] != task:
        _WORKER = (task, Preparer(task.secret, task.window_seconds, task.samples_per_template))
    return _WORKER[1]


#: How much lower a worker's scheduling priority is than the ingest that started it.
WORKER_NICENESS = 10


def _yield_to_writer() -> None:
    """Lower this worker's scheduling priority (``os.nice``; nothing where there is none).

    On real traffic the process that writes to the database is the ingest's bottleneck
    (realistic 50k file: ~48 s of CPU in a ~64 s run, the workers ~65 s between them), and
    with two workers on two cores the scheduler shared the cores evenly, so the writer
    waited for one while the workers ran ahead of it. At a lower priority the workers take
    what the writer leaves: 57.1 / 63.3 s against 64.2 / 66.9 s, interleaved. Only contention
    changes: alone on an idle machine a worker runs as fast as before.
    """
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):  # not permitted here: the same priority, then
            os.nice(WORKER_NICENESS)


#: How often a worker checks that the ingest that started it is still there (seconds).
PARENT_CHECK_SECONDS = 0.5


def _exit_with(parent: int) -> None:
    """End this worker as soon as ``parent`` is gone (``kill -9`` of an ingest left its
    workers running), removing the ingest's spool directories, which the parent can no longer
    remove. A thread polls the parent pid: portable, and unlike Linux's PR_SET_PDEATHSIG not
    tied to the thread that happened to start the worker."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        spool.remove_orphans(parent)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def prepare_in_worker(task: WorkerTask, first: int, block: bytes) -> spool.Spooled:
    """Prepare one block of lines (see :func:`_prepare_lines`)."""
    return _prepare_lines(task, first, block)


_FILES: dict[str, int] = {}


def prepare_span_in_worker(
    task: WorkerTask, first: int, path: str, offset: int, length: int
) -> spool.Spooled:
    """Prepare a byte range of a plain file (see :func:`app.ingest.reader.line_spans`); the
    block's bytes are dropped once cut into lines and scanned for card numbers."""
    fd = _FILES.get(path)
    if fd is None:
        fd = _FILES[path] = os.open(path, os.O_RDONLY)
    return _prepare_lines(task, first, read_span(fd, offset, length))


def _prepare_lines(task: WorkerTask, first: int, block: bytes) -> spool.Spooled:
    """Prepare one block of lines with the cyclic garbage collector paused; the result goes
    to the spool (the parent reads it back: :func:`app.ingest.spool.take`). A plain file's
    byte range is read and passed in as a temporary, so its block and lines are let go
    before the result is written (a block sent by the parent is held by the pool's call
    until the task returns).

    A batch allocates a few hundred thousand dicts that all live until it is done; the
    collector would walk them again and again (measured: a third of validation time) and
    find nothing, since the batch makes no reference cycles worth collecting early. It runs
    again, as usual, once the batch is returned. Only in worker processes: the in-process
    path shares its interpreter with the web server's threads.
    """
    preparer = _preparer(task)
    lines = split_lines(block)
    scan = scan_block(block, lines)
    del block  # the lines hold copies of its bytes
    gc.disable()
    try:
        prepared = preparer.lines(first, lines, scan)
        prepared.requests = None  # the parent prepares again in the rare case it needs them
        del lines
        result = spool.put(task.spool_dir, prepared)
        del prepared
        # A batch's parsed records are freed by now. A worker keeps up to 32 MiB of what it
        # freed for the next batch (trimming everything after each batch, as it did, cost
        # the realistic 50k file ~1.1M page faults in the workers, ~3 s of system time; the
        # whole-tree peak did not move, measured). Without glibc the pages go back at once:
        # otherwise each worker held its largest batch's high-water mark while it waited.
        if not _KEEPS_FREE:
            release()
        return result
    finally:
        gc.enable()

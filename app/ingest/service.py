"""Ingest: validate, reduce and store NDJSON records batch by batch.

Batches are the unit of work (validated and reduced together); a transaction groups whole
batches, up to ``commit_lines`` lines, so an interrupted ingest leaves only complete
transactions behind, and a re-run skips what is stored (accounts and payment methods are
upserts, requests are deduplicated by digest). Observation and usage rows are merged across
the batches of a transaction before they are written (:mod:`app.ingest.merge`). ``strict``
makes a whole input one transaction instead.

With ``workers > 0`` the CPU half (:mod:`app.ingest.prepare`) runs in worker processes, in
order, while this process writes the previous batch.
"""

from __future__ import annotations

import gc
import io
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app.core.context import Context
from app.core.db import transaction
from app.core.heap import retained_heap
from app.ingest import repository as repo
from app.ingest import spool, workers
from app.ingest.checkpoints import DeferredCheckpoints
from app.ingest.merge import MergedRows
from app.ingest.prepare import (
    Prepared,
    Preparer,
    WorkerTask,
    prepare_in_worker,
    prepare_span_in_worker,
)
from app.ingest.reader import (
    BROKEN_INPUT,
    line_blocks,
    line_spans,
    maybe_gunzip,
    plain_file_path,
)
from app.ingest.reduce import aggregate
from app.ingest.seen import StoredKeys
from app.ingest.validate import RecordError
from graph.types import ACTIVITY_WINDOW_SECONDS

if TYPE_CHECKING:
    from worlds.world import World

ERRORS_SHOWN = 20
#: Extra batches handed to the workers ahead of the writer when they read a plain file
#: themselves. Their results wait as files in the spool (app.ingest.spool), not in this
#: process's memory, so the workers go on preparing while this process commits a
#: transaction (realistic 50k file: ~1.6 s at the mid-file commit with both workers idle
#: behind the old bound of one batch more than workers).
SPOOLED_AHEAD = 6


@dataclass
class IngestSummary:
    read: int = 0
    accepted: dict[str, int] = field(
        default_factory=lambda: {"account": 0, "payment_method": 0, "request": 0}
    )
    duplicate_requests: int = 0
    rejected: int = 0
    errors: list[RecordError] = field(default_factory=list)
    error_count: int = 0
    committed_through_line: int = 0
    interrupted: bool = False
    strict_rolled_back: bool = False
    input_error: str | None = None  # the input broke off (a cut or corrupt gzip stream)

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "accepted": dict(self.accepted),
            "duplicate_requests": self.duplicate_requests,
            "rejected": self.rejected,
            "errors": [e.as_dict() for e in self.errors],
            "errors_not_shown": max(0, self.error_count - len(self.errors)),
            "committed_through_line": self.committed_through_line,
            "interrupted": self.interrupted,
            "strict_rolled_back": self.strict_rolled_back,
            "input_error": self.input_error,
        }


ErrorSink = Callable[[RecordError], None]
Progress = Callable[[int], None]


def _let_workers_exit(pool: ProcessPoolExecutor) -> list[threading.Thread]:
    """Tell the pool's workers to exit now that every batch is prepared (or the ingest stops:
    queued batches are dropped); return the thread that ends them.

    They exit (and free their heaps) while this process writes the last batches instead of
    after it (realistic 50k file: ~0.5 s of worker CPU at the very end, one core idle). With
    ``wait=False`` the pool's own exit no longer waits, so the ingest joins the pool's
    manager thread (it joins every worker before it ends) before it returns
    (:meth:`Ingestor.ingest`); joining the processes here as well would race it for their
    exit status.
    """
    # CPython's executor keeps it here (None before any task)
    manager: threading.Thread | None = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)  # nothing queued after the last batch
    return [manager] if manager is not None else []


def _with_source(future: Future[spool.Spooled], source: Any) -> Prepared:
    prepared: Prepared = spool.take(future.result())
    prepared.source = source
    return prepared


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while this process only writes.

    With worker processes (the CLI's ingest) this process turns each prepared batch into
    millions of short-lived row tuples for the driver; they form no reference cycles, yet
    the collector ran 10,198 times over them on the realistic 50k file (1.44 s of the
    writer's 47 s). Reference counting frees them at once; the few cycles made meanwhile
    are collected after each transaction (:func:`_collect_if_paused`), and the collector
    runs as usual afterwards. Not for the in-process path (``workers=0``): that shares its
    interpreter with the web server's threads.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _collect_if_paused() -> None:
    """With the collector paused, free the reference cycles a transaction left behind
    (SQLAlchemy's statement objects: ~225 objects, 40 KB, a batch), so that they do not pile
    up over a long file; one young-generation pass per transaction (1,000,000 lines)."""
    if not gc.isenabled():
        gc.collect(1)


def _until_broken(
    batches: Iterator[Prepared], summary: IngestSummary, strict: bool
) -> Iterator[Prepared]:
    """The batches until the input breaks off (a gzip stream cut short or corrupt): the
    whole batches before the break are written and committed as usual (already accepted
    data is not lost to a bad tail; ``strict`` rolls them back), and the summary says where
    and why it stopped."""
    try:
        yield from batches
    except BROKEN_INPUT as exc:
        cut = isinstance(exc, EOFError)
        what = "ends before its compressed stream does (cut off?)" if cut else "is corrupt"
        kept = (
            "nothing from it was stored (strict)"
            if strict
            else "the lines before the break were ingested, the rest was not read"
        )
        summary.input_error = f"the gzip input {what} after {summary.read:,} records; {kept}"


class Ingestor:
    def __init__(
        self,
        factory: sessionmaker[Session],
        secret: bytes,
        *,
        batch_lines: int = 25_000,
        commit_lines: int = 1_000_000,
        window_seconds: int = ACTIVITY_WINDOW_SECONDS,
        samples_per_template: int = 5,
        samples_per_account: int = 20,
        samples_per_account_unshared: int = 6,
        strict: bool = False,
        workers: int = 0,
        on_error: ErrorSink | None = None,
        sqlite_cache_mib: int = 0,
    ) -> None:
        self.factory = factory
        self.secret = secret
        self.batch_lines = batch_lines
        self.commit_lines = commit_lines
        self.window_seconds = window_seconds
        self.strict = strict
        self.workers = workers
        self.on_error = on_error
        self.sqlite_cache_mib = sqlite_cache_mib
        self.samples = repo.SampleBook(
            samples_per_template, samples_per_account, samples_per_account_unshared
        )
        self._local = Preparer(secret, window_seconds, samples_per_template)
        self._exiting: list[threading.Thread] = []  # pools told to end before the last writes
        self._checkpoints: DeferredCheckpoints | None = None  # SQLite WAL, with workers
        self._stored_values = StoredKeys()
        #: ``workers`` processes started before this ingest (app.ingest.workers.start), for
        #: the next ingest() to use
        self.prestarted: ProcessPoolExecutor | None = None

    # ------------------------------------------------------------------ driving
    def ingest(self, stream: BinaryIO, progress: Progress | None = None) -> IngestSummary:
        """Ingest one NDJSON stream (plain or gzip). Ctrl-C keeps committed batches."""
        summary = IngestSummary()
        self._stored_values = StoredKeys()  # display values this call has stored
        source = maybe_gunzip(stream)
        try:
            if self.workers > 0:
                # the writer keeps what a batch freed for the next one, as the workers do
                # (app.core.heap; the defaults and a malloc_trim come back at the end)
                try:
                    with (
                        spool.directory() as results,
                        self._take_pool() as pool,
                        _collector_paused(),
                        retained_heap(),
                        DeferredCheckpoints(self.factory.kw.get("bind")) as self._checkpoints,
                    ):
                        batches = self._parallel(pool, source, self._task(results))
                        try:
                            self._consume(
                                _until_broken(batches, summary, self.strict), summary, progress
                            )
                        except BaseException:  # Ctrl-C or a failure: queued batches go unmade
                            self._exiting.extend(_let_workers_exit(pool))
                            raise
                finally:
                    self._checkpoints = None
                    for manager in self._exiting:  # workers gone before this returns
                        manager.join()
                    self._exiting.clear()
            else:
                chunks = line_blocks(source, self.batch_lines)
                batches = (self._local(f, b) for f, b, _ in chunks)
                self._consume(_until_broken(batches, summary, self.strict), summary, progress)
        except KeyboardInterrupt:
            summary.interrupted = True
        return summary

    def _take_pool(self) -> ProcessPoolExecutor:
        """The pool started for this ingest (:attr:`prestarted`, once), or a new one."""
        pool, self.prestarted = self.prestarted, None
        return pool if pool is not None else workers.start(self.workers)

    def _task(self, spool_dir: str) -> WorkerTask:
        return WorkerTask(self.secret, self.window_seconds, self.samples.limit, spool_dir)

    def _parallel(
        self, pool: ProcessPoolExecutor, source: BinaryIO, settings: WorkerTask
    ) -> Iterator[Prepared]:
        """Batches prepared by the pool, in order. A plain file is handed out as byte ranges
        that the workers read themselves; anything else (gzip, a pipe) as the bytes."""
        path = plain_file_path(source)
        tasks: Iterator[tuple[Any, ...]]
        ahead = self.workers  # batches in flight beyond the one this process waits for
        if path is not None:
            ahead += SPOOLED_AHEAD
            spans = line_spans(source, self.batch_lines)
            tasks = ((prepare_span_in_worker, f, path, off, n) for f, off, n, _ in spans)
        else:
            blocks = line_blocks(source, self.batch_lines)
            tasks = ((prepare_in_worker, f, b) for f, b, _ in blocks)
        pending: deque[tuple[Future[spool.Spooled], Any]] = deque()
        broken: BaseException | None = None
        while True:
            try:
                task = next(tasks, None)
            except BROKEN_INPUT as exc:  # the whole batches read before the break still count
                broken = exc
                break
            if task is None:
                break
            fn, first, *args = task
            # the source goes with the result: re-sent requests need the batch prepared again
            origin = args[0] if len(args) == 1 else tuple(args)
            pending.append((pool.submit(fn, settings, first, *args), origin))
            # Bounded, so memory stays flat however long the file; one batch more than there
            # are workers, so that a worker has the next batch while this process writes
            # (more where results are spooled and the blocks stay in the file).
            if len(pending) > ahead:
                yield _with_source(*pending.popleft())
        while pending:
            prepared = _with_source(*pending.popleft())
            if not pending:
                self._exiting.extend(_let_workers_exit(pool))
            yield prepared
        if broken is not None:
            raise broken

    def _consume(
        self, prepared: Iterator[Prepared], summary: IngestSummary, progress: Progress | None
    ) -> None:
        if self.strict:
            self._strict(prepared, summary, progress)
            return
        batches = iter(prepared)
        nxt = next(batches, None)
        while nxt is not None:
            pending: list[dict[str, int]] = []
            lines = 0
            with transaction(self.factory) as session:
                self._tune(session)
                merged = MergedRows()
                while nxt is not None:
                    p, nxt = nxt, None
                    pending.append(self._write(session, p, summary, merged))
                    lines += p.line_count
                    last_line = p.first_line + p.line_count - 1
                    if progress:
                        progress(p.line_count)
                    # the written batch goes before the next one arrives (two batches alive
                    # at once were the parent's high-water mark)
                    del p
                    if lines >= self.commit_lines:
                        break  # commit before waiting for more (Ctrl-C keeps what is done)
                    nxt = next(batches, None)
                merged.write(session)
            if self._checkpoints is not None:
                self._checkpoints.after_commit()
            _collect_if_paused()
            for counts in pending:
                self._add(summary, counts)
            summary.committed_through_line = last_line
            if nxt is None:
                nxt = next(batches, None)

    def _strict(
        self, prepared: Iterator[Prepared], summary: IngestSummary, progress: Progress | None
    ) -> None:
        pending: list[dict[str, int]] = []
        with transaction(self.factory) as session:
            self._tune(session)
            merged = MergedRows()
            for p in prepared:
                pending.append(self._write(session, p, summary, merged, write=not summary.rejected))
                if progress:
                    progress(p.line_count)
            if summary.rejected or summary.input_error:
                session.rollback()
                summary.strict_rolled_back = True
                return
            merged.write(session)
        if self._checkpoints is not None:
            self._checkpoints.after_commit()
        for counts in pending:
            self._add(summary, counts)
        summary.committed_through_line = summary.read

    def _tune(self, session: Session) -> None:
        """Start an ingest transaction: the PostgreSQL ingest lock, and a larger SQLite page
        cache for this connection (the CLI asks for one).

        The upserts touch index pages all over the activity, observation and request-digest
        B-trees, which outgrow the default 64 MiB; the gain measured on the benchmark file
        (3-18% across runs) was within this machine's noise, the memory cost is bounded. The
        HTTP ingest leaves the server's pooled connections at their default.
        """
        self.samples.begin()
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            # One ingest transaction at a time. Two ingests upserting overlapping values
            # (observed_values, activity) across several batches lock rows in opposite orders
            # and deadlock (2 of 2 tries with 20k-line commits, one ingest exited part-way);
            # held until commit, so concurrent ingests alternate, transaction by transaction.
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": INGEST_LOCK_KEY})
        if self.sqlite_cache_mib and dialect == "sqlite":
            session.execute(text(f"PRAGMA cache_size=-{int(self.sqlite_cache_mib) * 1024}"))

    # ------------------------------------------------------------------ one batch
    @staticmethod
    def _add(summary: IngestSummary, counts: dict[str, int]) -> None:
        for k in ("account", "payment_method", "request"):
            summary.accepted[k] += counts[k]
        summary.duplicate_requests += counts["duplicate"]

    def _record_errors(self, summary: IngestSummary, errors: list[RecordError]) -> None:
        summary.rejected += len({e.line for e in errors})
        summary.error_count += len(errors)
        room = ERRORS_SHOWN - len(summary.errors)
        if room > 0:
            summary.errors.extend(errors[:room])
        if self.on_error:
            for e in errors:
                self.on_error(e)

    def _write(
        self,
        session: Session,
        p: Prepared,
        summary: IngestSummary,
        merged: MergedRows,
        write: bool = True,
    ) -> dict[str, int]:
        summary.read += p.read
        self._record_errors(summary, p.errors)
        counts = {"account": 0, "payment_method": 0, "request": 0, "duplicate": 0}
        if not write:
            return counts
        repo.upsert_accounts(session, p.accounts)
        repo.upsert_payments(session, p.payments)
        repo.insert_values(session, p.new_values, self._stored_values)
        repo.insert_template_signatures(session, p.templates)
        new = repo.insert_request_keys(session, p.dedupe)
        fresh = int(new.sum())
        agg = p.aggregates
        if fresh and fresh < len(p.dedupe):  # some were stored before: regroup the new ones
            agg = aggregate(
                p.request_columns(self._local).subset(new), self.window_seconds, self.samples.limit
            )
        if fresh and agg is not None:
            merged.add(agg)
            repo.upsert_activity(session, agg.activity_rows())
            senders = agg.template_senders()
            self.samples.add(session, agg.sample_rows(), senders)
            self.samples.note(*senders)
        counts.update(
            account=len(p.accounts),
            payment_method=len(p.payments),
            request=fresh,
            duplicate=len(p.dedupe) - fresh,
        )
        return counts


#: PostgreSQL advisory lock that ingest transactions hold ("hydra" in ASCII).
INGEST_LOCK_KEY = 0x6879647261


def make_ingestor(
    ctx: Context,
    *,
    strict: bool = False,
    workers: int = 0,
    on_error: ErrorSink | None = None,
    sqlite_cache_mib: int = 0,
) -> Ingestor:
    """An Ingestor configured from the context's settings (the CLI's and HTTP's entry point)."""
    s = ctx.settings
    return Ingestor(
        ctx.sessions,
        s.hashing_key(),
        batch_lines=s.ingest_batch_lines,
        commit_lines=s.ingest_commit_lines,
        window_seconds=s.activity_window_seconds,
        samples_per_template=s.prompt_samples_per_template,
        samples_per_account=s.prompt_samples_per_account,
        samples_per_account_unshared=s.prompt_samples_per_account_unshared,
        strict=strict,
        workers=workers,
        on_error=on_error,
        sqlite_cache_mib=sqlite_cache_mib,
    )


def ingest_world(ctx: Context, world: World, *, workers: int = 0) -> IngestSummary:
    """Load a generated world (``worlds``) through ingest, as its NDJSON would be."""
    from worlds.files import world_ndjson  # the generator is for demos and tests only

    return make_ingestor(ctx, workers=workers).ingest(io.BytesIO(world_ndjson(world)))

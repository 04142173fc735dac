"""SQLite write-ahead-log checkpoints of a long ingest, moved off the writer's path.

In WAL mode a commit appends the transaction's pages to the ``-wal`` file; a checkpoint
copies them into the database file. SQLite runs one inside the commit of whichever
connection's log outgrew 1,000 pages, so the ingest's writer waited for it at every
transaction, with its worker processes idle because it was not collecting their batches
(realistic 50k file: the mid-file commit took 2.2 s, 1.6 s of it the checkpoint).

:class:`DeferredCheckpoints` turns that automatic checkpoint off on the connections the
ingest checks out (and back on when they are returned to the pool), and after each commit
runs a passive checkpoint from a connection of its own in a thread: the driver releases the
GIL while SQLite copies pages, and a passive checkpoint waits for no reader or writer, so
the next transaction's batches are written meanwhile. Only what is committed is copied, so a
crash loses nothing that a commit reported; the log grows by at most one transaction more
than before, and the last checkpoint is waited for before the ingest returns (the database
file holds everything, as before; readers are not left with a long log to search).
"""

from __future__ import annotations

import sqlite3
import threading
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, event

#: SQLite's own default for ``wal_autocheckpoint`` (pages), restored on check-in
AUTOCHECKPOINT_PAGES = 1000


def _autocheckpoint(dbapi_conn: Any, pages: int) -> None:
    if dbapi_conn is None:  # invalidated: nothing to set
        return
    cur = dbapi_conn.cursor()
    try:
        cur.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")
    finally:
        cur.close()


class DeferredCheckpoints:
    """For ``engine`` (SQLite on a file in WAL mode; anything else is left alone) while the
    ``with`` block lasts: no checkpoint inside a commit; :meth:`after_commit` starts one in
    the background; leaving the block waits for it."""

    def __init__(self, engine: Engine | None) -> None:
        self.engine = engine
        database = engine.url.database if isinstance(engine, Engine) else None
        self.path = (
            database
            if isinstance(engine, Engine)
            and engine.dialect.name == "sqlite"
            and database
            and database != ":memory:"
            else None
        )
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None  # the last background checkpoint's failure

    def __enter__(self) -> DeferredCheckpoints:
        if self.path is not None:
            event.listen(self.engine, "checkout", self._checked_out)
            event.listen(self.engine, "checkin", self._checked_in)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.wait()
        if self.path is not None:
            event.remove(self.engine, "checkout", self._checked_out)
            event.remove(self.engine, "checkin", self._checked_in)

    @staticmethod
    def _checked_out(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        _autocheckpoint(dbapi_conn, 0)

    @staticmethod
    def _checked_in(dbapi_conn: Any, _record: Any) -> None:
        _autocheckpoint(dbapi_conn, AUTOCHECKPOINT_PAGES)

    def after_commit(self) -> None:
        """Copy what is committed into the database file, in the background (one at a time:
        waits for the previous one first)."""
        if self.path is None:
            return
        self.wait()
        self._thread = threading.Thread(
            target=self._checkpoint, name="hydrascope-wal-checkpoint", daemon=True
        )
        self._thread.start()

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _checkpoint(self) -> None:
        assert self.path is not None
        try:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            finally:
                conn.close()
        except sqlite3.Error as exc:  # the log stays; the next commit or close copies it
            self.error = exc

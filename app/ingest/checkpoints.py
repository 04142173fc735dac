"""SQLite write-ahead-log checkpoints of a long ingest, moved off the writer's path.

In WAL mode a commit appends the transaction's pages to the ``-wal`` file; a checkpoint
copies them into the database file. SQLite runs one inside the commit of whichever
connection's log outgrew 1,000 pages, so the ingest's writer waited for it at every
transaction, with its worker processes idle because it was not collecting their batches
(realistic 50k file: the mid-file commit took 2.2 s, 1.6 s of it the checkpoint).

:class:`DeferredCheckpoints` turns that automatic checkpoint off on every connection checked
out of the engine's pool while the ingest runs (and back on when it is returned), and after
each commit
runs a passive checkpoint from a connection of its own in a thread: the driver releases the
GIL while SQLite copies pages, and a passive checkpoint waits for no reader or writer, so
the next transaction's batches are written meanwhile. Only what is committed is copied, so a
crash loses nothing that a commit reported. A log that is still being copied when the next
transaction starts cannot be rewound, so it grows by that transaction: past
:data:`WAL_LIMIT_BYTES` a commit waits for its checkpoint (the log then starts over). The
last checkpoint is waited for before the ingest returns, and the log truncated when nobody
reads (the database file holds everything, as before; readers are not left with a long log
to search).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from types import TracebackType
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, event

_log = logging.getLogger(__name__)

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


#: Above this size of the write-ahead log, a commit waits for its checkpoint before the next
#: transaction starts. The log is rewound only by a transaction that starts after a complete
#: checkpoint; a checkpoint still running when the next transaction begins leaves the log to
#: grow by that transaction, so without this bound the log of a long ingest would grow by
#: everything it writes.
WAL_LIMIT_BYTES = 512 << 20


class DeferredCheckpoints:
    """For ``engine`` (SQLite on a file in WAL mode; anything else is left alone) while the
    ``with`` block lasts: no checkpoint inside a commit; :meth:`after_commit` starts one in
    the background (and waits for it once the log is over :data:`WAL_LIMIT_BYTES`); leaving
    the block waits for the last one and truncates the log when no one is reading."""

    def __init__(self, engine: Engine | None, wal_limit: int = WAL_LIMIT_BYTES) -> None:
        self.engine = engine
        self.wal_limit = wal_limit
        self.path: str | None = None  # the database file, once known to be in WAL mode
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None  # the last background checkpoint's failure

    def __enter__(self) -> DeferredCheckpoints:
        engine = self.engine
        if isinstance(engine, Engine) and engine.dialect.name == "sqlite":
            self.path = _wal_file(engine)
        if self.path is not None:
            event.listen(engine, "checkout", self._checked_out)
            event.listen(engine, "checkin", self._checked_in)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.path is None:
            return
        try:
            event.remove(self.engine, "checkout", self._checked_out)
            event.remove(self.engine, "checkin", self._checked_in)
        finally:
            self.wait()
            self._run("TRUNCATE", timeout=0)  # nothing left to copy: cut the log to 0 bytes

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
            target=self._run, args=("PASSIVE",), name="hydrascope-wal-checkpoint", daemon=True
        )
        self._thread.start()
        try:
            large = os.path.getsize(self.path + "-wal") > self.wal_limit
        except OSError:
            large = False
        if large:
            self.wait()

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self, mode: str, timeout: float = 30) -> None:
        assert self.path is not None
        try:
            # by URI, read-write: never creates a file where the database is not
            conn = sqlite3.connect(
                f"file:{quote(self.path)}?mode=rw", uri=True, timeout=timeout, isolation_level=None
            )
            try:
                conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()
            finally:
                conn.close()
        except sqlite3.Error as exc:  # the log stays; the next commit or close copies it
            self.error = exc
            if mode == "PASSIVE":
                _log.warning("write-ahead log checkpoint failed: %s", exc)


def _wal_file(engine: Engine) -> str | None:
    """The absolute path of ``engine``'s main database file if it is a file in WAL mode."""
    with engine.connect() as conn:
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        files = {row[1]: row[2] for row in conn.exec_driver_sql("PRAGMA database_list")}
    path = files.get("main")
    return str(path) if mode == "wal" and path else None

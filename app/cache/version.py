"""The data version (app.core.changes.DATA), read from the event loop for the response cache.

A cached answer costs one read of this number and nothing else, so how it is read matters:
through a SQLAlchemy session in the threadpool it was measured at 18% of a worker's CPU plus
another 10% for the thread hop. On PostgreSQL it is read here over one asyncio psycopg
connection per server process (autocommit, the statement prepared after its fifth use);
other databases read it in the threadpool.

Reads are never shared between requests: each request's read is sent after the request
arrived, so it sees every commit the client could already know of (a reviewer who saved a
decision through another worker reads it back). The connection lives as long as the app's
lifespan (opened on first use, again after a failure, closed at shutdown); an app driven
without its lifespan (a test client outside ``with``) opens one per read.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.concurrency import run_in_threadpool

from app.core.changes import DATA_VERSION, data_version
from app.core.context import Context

# the same statement as app.core.changes.data_version, as text for psycopg's own connection
_SQL = str(DATA_VERSION.compile(compile_kwargs={"literal_binds": True}))


class VersionReader:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._postgres = ctx.engine.dialect.name == "postgresql"
        self._conn: Any = None
        self._lock: asyncio.Lock | None = None  # set while the lifespan runs

    async def start(self) -> None:
        """Keep one connection from now until :meth:`stop` (the app's lifespan)."""
        self._lock = asyncio.Lock()

    async def stop(self) -> None:
        self._lock = None
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()

    async def current(self) -> int:
        if not self._postgres:
            return await run_in_threadpool(self._read_sync)
        if self._lock is None:
            async with await self._connect() as conn:
                return await self._select(conn)
        async with self._lock:  # one statement at a time on the connection
            try:
                if self._conn is None:
                    self._conn = await self._connect()
                return await self._select(self._conn)
            except Exception:
                await self._reset()  # a broken connection: one fresh try, then the error stands
                self._conn = await self._connect()
                return await self._select(self._conn)

    def _read_sync(self) -> int:
        with self.ctx.reads() as s:
            return data_version(s)

    async def _connect(self) -> Any:
        import psycopg

        url = self.ctx.engine.url.set(drivername="postgresql")
        return await psycopg.AsyncConnection.connect(
            url.render_as_string(hide_password=False), autocommit=True
        )

    @staticmethod
    async def _select(conn: Any) -> int:
        cur = await conn.execute(_SQL)
        row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def _reset(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            await conn.close()

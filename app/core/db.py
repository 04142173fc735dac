"""Engine creation, the schema-revision check, the session dependency, and the JSON array
form of integer keys that SQLite inserts fastest.

The caller that opens a session owns its transaction: services flush, they never commit.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    import numpy as np

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


class SchemaError(RuntimeError):
    """The database schema is missing or behind the code."""


SQLITE_PAGE_SIZE = 32_768


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # Takes effect only while the file is still empty (then fixed, WAL mode included).
    # The ingest process writing replayed batches: 21.5-25.2 s with 4 KiB pages, 19.5-22.3
    # with 16 KiB, 17.6-18.2 with 32 KiB. One account's rows (three point queries, cold
    # page cache) cost 64 us instead of 52-58 us.
    cur.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache for index upserts
    # Deleted rows are zeroed on the pages a write touches anyway, freed pages are not
    # overwritten. Builds differ (Debian's SQLite zeroes everything, upstream's nothing);
    # zeroing every freed page made a detection run write each dropped table twice more
    # (a 100k-account realistic world: 8 s of 17 s persisting). docs/architecture.md says
    # what can remain in free pages, and VACUUM rewrites the file without them.
    cur.execute("PRAGMA secure_delete=FAST")
    cur.close()


def _begin_before_savepoint(conn: Any, _name: str) -> None:
    """pysqlite (Python < 3.12) begins a transaction only before INSERT/UPDATE/DELETE, so a
    SAVEPOINT sent first would itself open the transaction and its RELEASE would commit
    everything: the enclosing transaction would no longer be all-or-nothing. Begin it first,
    for every ``begin_nested()`` on a SQLite engine."""
    dbapi = conn.connection.driver_connection
    if dbapi is not None and not dbapi.in_transaction:
        dbapi.execute("BEGIN")


#: SQLite >= 3.38 has JSON built in: a statement reading one JSON array of integer keys
#: (``INSERT ... SELECT value FROM json_each(?)``) stores them for ~0.35-2.4 us a key
#: against ~0.75-3.4 us through ``executemany`` (2M sorted keys into a temporary table:
#: 0.68 against 1.49 s; 1M random keys into request_keys: 2.4 against 3.4 us a key).
SQLITE_HAS_JSON = sqlite3.sqlite_version_info >= (3, 38)


def json_key_arrays(keys: np.ndarray, size: int = 50_000) -> Iterator[str]:
    """``keys`` (int64) as JSON arrays of at most ``size``, for ``json_each``."""
    for start in range(0, len(keys), size):
        yield orjson.dumps(keys[start : start + size].tolist()).decode()


def json_text(obj: Any) -> str:
    """JSON text of ``obj`` (NumPy arrays and numbers included), as stored in JSON columns."""
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY).decode()


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        # a server's threadpool runs up to 40 requests at once: keep their connections open
        kwargs.setdefault("pool_size", 20)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_pre_ping", False)
    # a failed statement's parameters are personal data (names, emails, prompts): errors and
    # logs name the statement only
    kwargs.setdefault("hide_parameters", True)
    kwargs.setdefault("json_serializer", json_text)
    kwargs.setdefault("json_deserializer", orjson.loads)  # explanations are large documents
    engine = create_engine(url, future=True, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _begin_before_savepoint)
    return engine


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    head = script.get_current_head()
    assert head is not None
    return head


#: The newest migration's revision: the schema this code reads and writes. The check every
#: command runs first compares the database with this constant instead of loading alembic's
#: script directory and migration context (~0.2 s of CPU, a tenth of a small detection
#: run); a test holds it equal to alembic's head, so no migration lands without it.
SCHEMA_HEAD = "0007"


def current_revision(engine: Engine) -> str | None:
    """The revision alembic recorded in the database (its ``alembic_version`` table), or
    None for a database without one."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(found) > 1:
        raise SchemaError(
            f"The database {engine.url.render_as_string(hide_password=True)} records several "
            f"schema revisions ({', '.join(sorted(found))}); hydrascope's history is linear."
        )
    return found[0] if found else None


def check_schema(engine: Engine) -> None:
    """Raise SchemaError naming the command to run when the schema is not at head."""
    current = current_revision(engine)
    if current != SCHEMA_HEAD:
        state = "has no hydrascope schema" if current is None else f"is at revision {current}"
        raise SchemaError(
            f"The database {engine.url.render_as_string(hide_password=True)} {state}; "
            f"this version needs {SCHEMA_HEAD}. Run `hydrascope db upgrade`."
        )


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception. Every commit is a
    new data version (app.core.changes.bump_data), which is how the API's response caches learn
    that what they rendered may be out of date."""
    from app.core.changes import bump_data

    session = factory()
    try:
        yield session
        bump_data(session)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()

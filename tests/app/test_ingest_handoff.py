"""How an ingest with worker processes hands batches to the writer (through a private spool
directory) and leaves SQLite's write-ahead log (checkpointed off the writer's path)."""

from __future__ import annotations

import sqlite3
import stat
import tempfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.core.context import Context
from app.core.db import make_engine
from app.ingest import spool
from app.ingest.checkpoints import AUTOCHECKPOINT_PAGES, DeferredCheckpoints
from app.ingest.service import make_ingestor
from tests.helpers import account, dump_tables, ndjson, request


def _file(tmp_path: Path, n: int = 300) -> Path:
    recs: list[dict[str, Any]] = [account(i) for i in range(n)]
    recs += [
        request(f"acct_{i}", id=f"r{i}", prompt=f"Explain step {i} in detail") for i in range(n)
    ]
    path = tmp_path / "input.ndjson"
    path.write_bytes(ndjson(*recs))
    return path


def test_worker_results_go_through_a_private_spool_that_is_removed(
    ctx: Context,
    other_ctx: Context,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    taken: list[str] = []
    seen_modes: list[int] = []
    real_take = spool.take

    def spy(spooled: spool.Spooled) -> Any:
        taken.append(spooled.path)
        seen_modes.append(stat.S_IMODE(Path(spooled.path).parent.stat().st_mode))
        return real_take(spooled)

    monkeypatch.setattr(spool, "take", spy)
    path = _file(tmp_path)
    ing = make_ingestor(ctx, workers=2)
    ing.batch_lines = 100
    with path.open("rb") as fh:
        got = ing.ingest(fh)  # type: ignore[arg-type]
    assert got.accepted["request"] == 300 and got.rejected == 0
    assert len(taken) == 6  # every batch came back through a file
    assert set(seen_modes) == {0o700}  # in a directory only this user can write to
    assert all(Path(p).parent.parent == temp for p in taken)
    assert list(temp.iterdir()) == []  # files and directory gone
    ingest = make_ingestor(other_ctx, workers=0)
    with path.open("rb") as fh:
        ingest.ingest(fh)  # type: ignore[arg-type]
    assert dump_tables(ctx.engine) == dump_tables(other_ctx.engine)


def test_a_spooled_file_is_deleted_once_read(tmp_path: Path) -> None:
    handle = spool.put(str(tmp_path), {"a": [1, 2, 3]})
    assert Path(handle.path).exists()
    assert spool.take(handle) == {"a": [1, 2, 3]}
    assert not Path(handle.path).exists()


def _main_file_rows(path: Path, table: str = "t") -> int:
    # immutable=1 reads the database file alone, without its write-ahead log: what a
    # checkpoint has copied there
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


def _wal_engine(tmp_path: Path, url: str | None = None) -> tuple[Path, Any]:
    path = tmp_path / "wal.db"
    engine = make_engine(url or f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER, pad TEXT)"))
    with engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    return path, engine


def _insert(engine: Any, n: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO t SELECT value, printf('%.2000c', 'x') FROM json_each(:v)"),
            {"v": str(list(range(n)))},
        )


def test_commits_leave_the_checkpoint_to_a_background_thread(tmp_path: Path) -> None:
    path, engine = _wal_engine(tmp_path)
    with DeferredCheckpoints(engine) as checkpoints:
        with engine.begin() as conn:
            assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
        _insert(engine, 3)
        assert _main_file_rows(path) == 0  # committed, in the log only
        checkpoints.after_commit()
        checkpoints.wait()
        assert checkpoints.error is None
        assert _main_file_rows(path) == 3
    with engine.connect() as conn:  # returned connections checkpoint on commit again
        assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == AUTOCHECKPOINT_PAGES
    assert Path(f"{path}-wal").stat().st_size == 0  # cut to nothing on leaving
    engine.dispose()


def test_the_log_starts_over_once_it_is_past_its_bound(tmp_path: Path) -> None:
    # A checkpoint still running when the next transaction starts lets the log grow by that
    # transaction (here: one row written at once after each commit, as the next batch
    # arrives at once). Past the bound (0 here) a commit waits for its checkpoint, and the
    # next transaction starts the log over: it stays the size of one transaction.
    path, engine = _wal_engine(tmp_path)
    sizes = []
    with DeferredCheckpoints(engine, wal_limit=0) as checkpoints:
        for _ in range(6):
            _insert(engine, 2000)  # ~4 MB a transaction
            checkpoints.after_commit()
            _insert(engine, 1)
            checkpoints.after_commit()
            sizes.append(Path(f"{path}-wal").stat().st_size)
    assert _main_file_rows(path) == 6 * 2001
    assert max(sizes) <= 1.5 * sizes[0]
    engine.dispose()


def test_the_checkpoint_finds_the_database_of_a_uri_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # sqlite:///file:...?uri=true names the file by URI: the thread must open that file,
    # not create one called "file:..." where it runs
    monkeypatch.chdir(tmp_path)
    path, engine = _wal_engine(tmp_path, f"sqlite:///file:{tmp_path / 'wal.db'}?uri=true")
    with DeferredCheckpoints(engine) as checkpoints:
        _insert(engine, 5)
        checkpoints.after_commit()
    assert checkpoints.error is None and _main_file_rows(path) == 5
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("file:")) == []
    engine.dispose()


@pytest.mark.parametrize("strict", [False, True], ids=["transactions", "strict"])
def test_an_ingest_with_workers_returns_with_its_data_in_the_database_file(
    ctx: Context, tmp_path: Path, backend: str, strict: bool
) -> None:
    if backend != "sqlite":
        pytest.skip("write-ahead log checkpoints are SQLite's")
    path = _file(tmp_path)
    ing = make_ingestor(ctx, workers=2, strict=strict)
    ing.batch_lines, ing.commit_lines = 100, 200  # three transactions, or one when strict
    with path.open("rb") as fh:
        assert ing.ingest(fh).accepted["account"] == 300  # type: ignore[arg-type]
    database = Path(ctx.engine.url.database or "")
    assert _main_file_rows(database, "accounts") == _main_file_rows(database, "request_keys")
    assert _main_file_rows(database, "accounts") == 300
    with ctx.engine.connect() as conn:
        assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == AUTOCHECKPOINT_PAGES


def test_values_reported_by_both_workers_are_all_stored_once(
    ctx: Context, other_ctx: Context, tmp_path: Path
) -> None:
    # 20 IPs and user agents recur in every 50-line batch, so each worker reports them; the
    # writer stores each once (app.ingest.seen.StoredKeys) and loses none
    recs = [
        request(
            f"acct_{i % 40}",
            id=f"r{i}",
            ip=f"10.{i % 20}.0.{i % 20}",
            user_agent=f"agent/{i % 20}",
            prompt=f"Question {i}",
        )
        for i in range(600)
    ]
    path = tmp_path / "input.ndjson"
    path.write_bytes(ndjson(*recs))
    ing = make_ingestor(ctx, workers=2)
    ing.batch_lines = 50
    with path.open("rb") as fh:
        assert ing.ingest(fh).accepted["request"] == 600  # type: ignore[arg-type]
    with path.open("rb") as fh:
        make_ingestor(other_ctx, workers=0).ingest(fh)  # type: ignore[arg-type]
    assert dump_tables(ctx.engine) == dump_tables(other_ctx.engine)
    with ctx.engine.connect() as conn:
        kinds = dict(
            conn.execute(text("SELECT kind, count(*) FROM observed_values GROUP BY kind")).all()
        )
    assert kinds[1] == 20 and kinds[3] == 20  # IPs and user agents (graph.types.Kind)


def test_an_interrupted_ingest_leaves_no_workers_and_no_spool(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ctrl-C while many batches are queued for the workers: the ingest returns with what it
    # committed, its workers gone and its spool directory removed
    import multiprocessing

    from app.ingest.service import Ingestor

    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    write = Ingestor._write
    calls: list[int] = []

    def interrupting(self: Ingestor, *args: Any, **kwargs: Any) -> dict[str, int]:
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return write(self, *args, **kwargs)

    monkeypatch.setattr(Ingestor, "_write", interrupting)
    path = _file(tmp_path, n=1500)  # 30 batches of 100 lines
    ing = make_ingestor(ctx, workers=2)
    ing.batch_lines, ing.commit_lines = 100, 200
    with path.open("rb") as fh:
        summary = ing.ingest(fh)  # type: ignore[arg-type]
    assert summary.interrupted and summary.committed_through_line == 200
    assert multiprocessing.active_children() == []
    assert list(temp.iterdir()) == []

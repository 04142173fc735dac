"""Small builders for test inputs."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, MetaData, select

SAMPLE = Path(__file__).resolve().parents[1] / "docs" / "samples" / "sample.ndjson"


def ndjson(*records: dict[str, Any] | bytes) -> bytes:
    return b"".join((r if isinstance(r, bytes) else orjson.dumps(r)) + b"\n" for r in records)


def write(path: Path, data: bytes, *, gz: bool = False) -> Path:
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def account(i: int | str, **kw: Any) -> dict[str, Any]:
    rec = {"type": "account", "id": f"acct_{i}", "created_at": "2026-01-04T09:12:44Z"}
    rec.update(kw)
    return rec


def request(account_id: str, **kw: Any) -> dict[str, Any]:
    rec = {
        "type": "request",
        "account_id": account_id,
        "ts": "2026-01-05T14:00:03Z",
        "ip": "198.51.100.23",
    }
    rec.update(kw)
    return rec


def dump_tables(
    engine: Engine, skip: tuple[str, ...] = ("alembic_version",)
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted, minus columns that record ingest time and the data
    version (every commit advances it, changed or not: it only tells caches to look again)."""
    md = MetaData()
    md.reflect(engine)
    out = {}
    with engine.connect() as conn:
        for name, table in md.tables.items():
            if name in skip:
                continue
            cols = [c for c in table.c if c.name not in ("ingested_at",)]
            rows = conn.execute(select(*cols)).all()
            if name == "change_counters":
                rows = [r for r in rows if r[0] != "data"]
            out[name] = sorted((tuple(r) for r in rows), key=repr)
    return out

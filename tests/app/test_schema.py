"""Migrations agree with the models and survive a round trip; behind schemas are refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect

from app.cli import main
from app.core.db import (
    SCHEMA_HEAD,
    SQLITE_PAGE_SIZE,
    SchemaError,
    check_schema,
    downgrade,
    head_revision,
    make_engine,
    upgrade,
)
from app.models import Base


def test_models_and_migrations_agree(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    engine.dispose()
    assert diff == []


def _revision_before_head() -> str:
    from alembic.script import ScriptDirectory

    from app.core.db import alembic_config

    down = (
        ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision("head").down_revision
    )
    assert isinstance(down, str)
    return down


def test_the_schema_head_constant_is_the_newest_migration() -> None:
    # the schema check reads the constant, not alembic: a new migration must update it
    assert head_revision() == SCHEMA_HEAD


def test_upgrade_downgrade_upgrade(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"accounts", "payment_methods", "observations", "clusters", "audit_log"} <= tables
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    with pytest.raises(SchemaError, match="has no hydrascope schema"):
        check_schema(engine)
    before = _revision_before_head()
    upgrade(engine, before)
    with pytest.raises(SchemaError, match=f"is at revision {before}; this version needs"):
        check_schema(engine)
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) == tables
    check_schema(engine)
    engine.dispose()


def test_commands_refuse_a_database_without_schema(empty_db_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app.core.config import get_settings

    monkeypatch.setenv("HYDRASCOPE_DATABASE_URL", empty_db_url)
    monkeypatch.setenv("HYDRASCOPE_SECRET_KEY", "x" * 32)
    get_settings.cache_clear()
    engine = make_engine(empty_db_url)
    try:
        check_schema(engine)
        raise AssertionError("expected SchemaError")
    except SchemaError as exc:
        assert "hydrascope db upgrade" in str(exc)
    for args in (["stats", "--json"], ["ingest", "-"]):
        result = CliRunner().invoke(main, args, input=b"")
        assert result.exit_code != 0
        assert "hydrascope db upgrade" in result.output
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["db", "current"])
    assert head_revision() in result.output
    get_settings.cache_clear()
    engine.dispose()


def test_new_sqlite_databases_get_large_pages_and_old_ones_keep_theirs(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:  # made elsewhere, with SQLite's default page size
        conn.execute("CREATE TABLE t (x)")
    for path, size in ((tmp_path / "new.db", SQLITE_PAGE_SIZE), (old, 4096)):
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA page_size").scalar() == size
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        engine.dispose()


def test_signatures_stored_as_16_bit_columns_convert_to_the_keys_ingest_computes(
    empty_db_url: str,
) -> None:
    """Revision 0006 packs the 0005 rows (32 BIGINT bands of four 16-bit MinHash values) into
    one 128-byte value of 8-bit values. The texts of one-off templates are gone by then, so the
    rows are converted, not recomputed: a converted row must equal what ingest computes now,
    or a template ingested before the upgrade would not group with a later near-duplicate."""
    import numpy as np
    from sqlalchemy import text

    from app.detection.loader import read_templates
    from graph.signals.minhash import signatures
    from graph.signals.prompts import NUM_PERM, STOPWORDS, band_keys

    texts = ["please summarise the quarterly report for the board", "write a poem about rain"]
    old = np.concatenate(  # how revision 0005's ingest packed them
        [
            signatures(texts, num_perm=NUM_PERM, seed=1).astype(np.uint16).view(np.int64),
            signatures(texts, num_perm=NUM_PERM, seed=2, k=1, drop=STOPWORDS)
            .astype(np.uint16)
            .view(np.int64),
        ],
        axis=1,
    )
    engine = make_engine(empty_db_url)
    upgrade(engine, "0005")
    columns = ", ".join(f"band_{i:02d}" for i in range(32))
    marks = ", ".join(f":b{i}" for i in range(32))
    with engine.begin() as conn:
        for key, row in zip((11, 22), old.tolist(), strict=True):
            conn.execute(
                text(
                    f"INSERT INTO template_signatures (template_key, words, signature, {columns}) "
                    f"VALUES (:k, 7, 0, {marks})"
                ),
                {"k": key, **{f"b{i}": v for i, v in enumerate(row)}},
            )
    upgrade(engine)
    pk = inspect(engine).get_pk_constraint("template_signatures")
    assert pk["name"] == "pk_template_signatures"  # the name later migrations refer to
    with engine.connect() as conn:
        templates = read_templates(conn)
    assert templates.key.tolist() == [11, 22] and templates.words.tolist() == [7, 7]  # type: ignore[union-attr]
    assert np.array_equal(templates.bands, band_keys(texts))  # type: ignore[arg-type]
    downgrade(engine, "0005")  # back: the low 8 bits of each value survive the round trip
    with engine.connect() as conn:
        back = np.array(conn.execute(text(f"SELECT {columns} FROM template_signatures")).all())
    assert np.array_equal(back.view(np.uint16) & 0xFF, old.view(np.uint16) & 0xFF)
    assert inspect(engine).get_pk_constraint("template_signatures")["name"] == (
        "pk_template_signatures"
    )
    engine.dispose()


def test_template_texts_move_out_of_observed_values_and_back(empty_db_url: str) -> None:
    """Revision 0007 moves the skeleton texts (kind 4 in observed_values) into
    template_texts and leaves every other observed value where it was; the downgrade puts
    them back. A database ingested before the upgrade keeps showing its templates."""
    from sqlalchemy import text

    from app.core.db import session_factory
    from app.detection.repository import template_texts

    engine = make_engine(empty_db_url)
    upgrade(engine, "0006")
    rows = [(4, 11, "please summarise <n>"), (4, -22, "write a poem"), (1, 11, "10.0.0.1")]
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO observed_values (kind, value_key, value) VALUES (:k, :v, :t)"),
            [{"k": k, "v": v, "t": t} for k, v, t in rows],
        )
    upgrade(engine)
    with engine.connect() as conn:
        left = conn.execute(text("SELECT kind, value_key, value FROM observed_values")).all()
    assert [tuple(r) for r in left] == [(1, 11, "10.0.0.1")]
    with session_factory(engine)() as s:
        assert template_texts(s, [11, -22, 33]) == {11: "please summarise <n>", -22: "write a poem"}
    downgrade(engine, "0006")
    with engine.connect() as conn:
        back = conn.execute(text("SELECT kind, value_key, value FROM observed_values")).all()
    assert sorted(tuple(r) for r in back) == sorted(rows)
    assert "template_texts" not in inspect(engine).get_table_names()
    engine.dispose()

"""Shared fixtures: a fresh, migrated database per test on SQLite and, when
HYDRASCOPE_TEST_POSTGRES_URL is set, on PostgreSQL too."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.core.context import Context
from app.core.db import make_engine, upgrade

PG_URL = os.environ.get("HYDRASCOPE_TEST_POSTGRES_URL")
TEST_SECRET = "test-secret-key-0123456789abcdef"
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
_PG_TEMPLATE = f"hs_tpl_{os.getpid()}"


def _pg_admin():  # type: ignore[no-untyped-def]
    assert PG_URL
    return make_engine(PG_URL, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    """A migrated template database; each test clones it (fast) instead of migrating."""
    if not PG_URL:
        yield None
        return
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{_PG_TEMPLATE}"'))
        conn.execute(text(f'CREATE DATABASE "{_PG_TEMPLATE}"'))
    url = make_url(PG_URL).set(database=_PG_TEMPLATE).render_as_string(hide_password=False)
    eng = make_engine(url)
    upgrade(eng)
    eng.dispose()
    yield _PG_TEMPLATE
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{_PG_TEMPLATE}"'))
    admin.dispose()


def _fresh_url(
    backend: str, tmp_path: Path, pg_template: str | None, migrated: bool
) -> Iterator[str]:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        if migrated:
            eng = make_engine(url)
            upgrade(eng)
            eng.dispose()
        yield url
        return
    name = f"hs_t_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        if migrated:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
        else:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)  # type: ignore[arg-type]
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path, pg_template: str | None) -> Iterator[str]:
    """URL of a fresh database at the head revision."""
    yield from _fresh_url(backend, tmp_path, pg_template, migrated=True)


@pytest.fixture
def empty_db_url(backend: str, tmp_path: Path, pg_template: str | None) -> Iterator[str]:
    """URL of a fresh database with no schema at all."""
    yield from _fresh_url(backend, tmp_path, pg_template, migrated=False)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(
        database_url=db_url, secret_key=TEST_SECRET, ingest_batch_lines=100, ingest_commit_lines=100
    )


@pytest.fixture
def ctx(settings: Settings) -> Iterator[Context]:
    c = Context(settings)
    yield c
    c.engine.dispose()


@pytest.fixture
def other_ctx(
    backend: str, tmp_path: Path, pg_template: str | None, settings: Settings
) -> Iterator[Context]:
    """A second fresh, migrated database on the same backend (for comparisons)."""
    sub = tmp_path / "other"
    sub.mkdir()
    gen = _fresh_url(backend, sub, pg_template, migrated=True)
    url = next(gen)
    c = Context(settings.model_copy(update={"database_url": url}))
    yield c
    c.engine.dispose()
    next(gen, None)


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    from app.core.config import get_settings

    env = {
        "HYDRASCOPE_DATABASE_URL": db_url,
        "HYDRASCOPE_SECRET_KEY": TEST_SECRET,
        "HYDRASCOPE_DEV_MODE": "0",
        "HYDRASCOPE_INGEST_WORKERS": "0",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    yield env  # type: ignore[misc]
    get_settings.cache_clear()

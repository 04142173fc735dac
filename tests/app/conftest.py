"""A detected small world served over HTTP, with one client per role."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.auth.apikeys import create_key
from app.core.context import Context
from app.detection import service
from app.ingest.service import ingest_world
from app.web.app import create_app
from graph import DetectParams
from tests.conftest import _pg_admin
from worlds.world import World, WorldParams, generate_world, scaled_networks

ROLES = ("viewer", "reviewer", "admin")


def small_api_world() -> World:
    return generate_world(WorldParams(n_benign=600, seed=5, networks=scaled_networks(1, 0.3)))


def clients_for(ctx: Context, **settings: object) -> dict[str, TestClient]:
    if settings:
        ctx.settings = ctx.settings.model_copy(update=settings)
    app = create_app(ctx)
    out = {}
    for role in ROLES:
        with ctx.sessions() as s, s.begin():
            _, key = create_key(s, name=role, role=role, actor="test")
        out[role] = TestClient(app, headers={"Authorization": f"Bearer {key}"})
    out["anonymous"] = TestClient(app)
    return out


def assert_redacted_for_viewers(as_reviewer: dict, as_viewer: dict) -> None:
    """The reviewer's detail shows personal evidence values; the viewer's has their shape only."""
    shown = [v["value"] for vs in as_reviewer["explanation"]["evidence"].values() for v in vs]
    hidden = [
        v["value"]
        for fam, vs in as_viewer["explanation"]["evidence"].items()
        if fam in ("payment", "network", "identity")
        for v in vs
        if v["kind"] != "user_agent"  # a software version, shown to every role
    ]
    assert any(shown) and hidden and not any(hidden)


_SNAPSHOTS: dict[str, str] = {}  # backend -> a detected small world (file or database name)


def _pg_name(url: str) -> str:
    return str(make_url(url).database)


def _copy_sqlite(source: str, target: str) -> None:
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _admin_sql(*statements: str) -> None:
    admin = _pg_admin()
    try:
        with admin.connect() as conn:
            for sql in statements:
                conn.execute(text(sql))
    finally:
        admin.dispose()


def _snapshot(ctx: Context, backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Keep a copy of ctx's database (a detected small world) for the next tests."""
    ctx.engine.dispose()
    url = ctx.settings.database_url
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("detected") / "world.db"
        _copy_sqlite(url.removeprefix("sqlite:///"), str(path))
        return str(path)
    name = f"hs_w_{uuid.uuid4().hex[:12]}"
    _admin_sql(f'CREATE DATABASE "{name}" TEMPLATE "{_pg_name(url)}"')
    return name


def _restore(ctx: Context, backend: str, source: str) -> None:
    """Replace ctx's fresh database with a copy of the snapshot."""
    ctx.engine.dispose()
    url = ctx.settings.database_url
    if backend == "sqlite":
        _copy_sqlite(source, url.removeprefix("sqlite:///"))
        return
    name = _pg_name(url)
    _admin_sql(
        f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        f'CREATE DATABASE "{name}" TEMPLATE "{source}"',
    )


@pytest.fixture(scope="session")
def _snapshots() -> Iterator[dict[str, str]]:
    yield _SNAPSHOTS
    if "postgresql" in _SNAPSHOTS:
        _admin_sql(f'DROP DATABASE IF EXISTS "{_SNAPSHOTS["postgresql"]}"')


@pytest.fixture
def api(
    ctx: Context,
    backend: str,
    _snapshots: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, TestClient]]:
    """The small world ingested and detected (done once per backend, then copied)."""
    if backend in _snapshots:
        _restore(ctx, backend, _snapshots[backend])
    else:
        ingest_world(ctx, small_api_world())
        service.detect(ctx, DetectParams(seed=0))
        _snapshots[backend] = _snapshot(ctx, backend, tmp_path_factory)
    yield clients_for(ctx)

"""A detected small world served over HTTP, with one client per role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.auth.keys import create_key
from app.context import Context
from app.detection import service
from app.main import create_app
from app.synthetic import ingest_world
from graph import DetectParams
from graph.synthetic.world import World, WorldParams, generate_world, scaled_networks

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


@pytest.fixture
def api(ctx: Context) -> Iterator[dict[str, TestClient]]:
    ingest_world(ctx, small_api_world())
    service.detect(ctx, DetectParams(seed=0))
    yield clients_for(ctx)

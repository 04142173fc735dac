"""Schemathesis against the app's own OpenAPI: generated requests to every operation must
get a documented status and a body that matches the documented schema, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings

from app.auth.apikeys import create_key
from app.core.context import Context
from app.detection import service
from app.ingest.service import ingest_world
from app.web.app import create_app
from graph import DetectParams
from tests.app.conftest import small_api_world

# POST /v1/runs starts background work and /v1/ingest writes data: both have their own tests
SKIP = {("POST", "/v1/runs"), ("POST", "/v1/ingest")}


@pytest.fixture
def fuzz_app(ctx: Context) -> Iterator[tuple[FastAPI, str]]:
    ctx.settings = ctx.settings.model_copy(update={"rate_limit_per_minute": 0})
    ingest_world(ctx, small_api_world())
    service.detect(ctx, DetectParams(seed=0))
    with ctx.sessions() as s, s.begin():
        _, key = create_key(s, name="fuzz", role="admin", actor="test")
    yield create_app(ctx), key


def _without_cursor(case: schemathesis.Case) -> schemathesis.Case:
    """Cursors are opaque tokens the API issues; a random one is rightly refused (400), and
    that refusal has its own tests."""
    if case.query:
        case.query.pop("cursor", None)
    return case


@pytest.mark.slow
def test_api_conforms_to_its_openapi(fuzz_app: tuple[FastAPI, str]) -> None:
    app, key = fuzz_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    auth = {"Authorization": f"Bearer {key}"}
    tested = []
    for result in schema.get_all_operations():
        op = result.ok()
        if (op.method.upper(), op.path) in SKIP:
            continue

        @given(case=op.as_strategy().map(_without_cursor))
        @settings(
            max_examples=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=auth)

        check()
        tested.append(op.path)
    assert "/v1/clusters/{cluster_id}" in tested and len(tested) >= 12

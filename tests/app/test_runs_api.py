"""Runs over HTTP: start in the background, one at a time, progress visible; stats; audit."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app.auth.apikeys import create_key
from app.core.context import Context
from app.detection import service
from app.ingest.service import ingest_world
from app.web.app import create_app
from graph import DetectParams
from worlds.world import WorldParams, generate_world, scaled_networks


def clients(ctx: Context) -> dict[str, TestClient]:
    app = create_app(ctx)
    out = {}
    for role in ("viewer", "admin"):
        with ctx.sessions() as s, s.begin():
            _, key = create_key(s, name=role, role=role, actor="test")
        out[role] = TestClient(app, headers={"Authorization": f"Bearer {key}"})
    return out


@pytest.mark.slow
def test_start_a_run_in_the_background_and_follow_it(ctx: Context) -> None:
    ingest_world(
        ctx, generate_world(WorldParams(n_benign=400, seed=2, networks=scaled_networks(1, 0.3)))
    )
    c = clients(ctx)
    assert c["viewer"].post("/v1/runs").status_code == 403
    r = c["admin"].post("/v1/runs")
    assert r.status_code == 202 and r.headers["location"] == f"/v1/runs/{r.json()['run_id']}"
    run_id = r.json()["run_id"]
    deadline = time.monotonic() + 120
    while True:
        run = c["viewer"].get(f"/v1/runs/{run_id}").json()
        if run["status"] != "running" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert run["status"] == "completed", run
    assert run["timings"]["total"] > 0 and run["params"]["engine"] == "leiden-cpm"
    assert "runner" not in run["counts"]
    assert c["viewer"].get("/v1/runs").json()[0]["id"] == run_id
    stats = c["viewer"].get("/v1/stats").json()
    assert stats["latest_run"] == run_id and stats["clusters"] > 0
    audit = c["admin"].get("/v1/audit").json()["items"]
    assert audit[0]["action"] == "run.start" and audit[0]["target_id"] == run_id
    # an instant with its offset, like every other time the API returns (it had none)
    assert datetime.fromisoformat(audit[0]["at"]).utcoffset() == timedelta(0)
    assert c["viewer"].get("/v1/audit").status_code == 403


def test_a_second_start_while_running_is_a_conflict(ctx: Context) -> None:
    running = service.start_run(ctx, DetectParams())
    r = clients(ctx)["admin"].post("/v1/runs")
    assert r.status_code == 409 and r.json()["run_id"] == running
    assert clients(ctx)["viewer"].get("/v1/runs/nope").status_code == 404

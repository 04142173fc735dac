"""Every endpoint x every role: who may call what (the table is the policy)."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from app.core.context import Context
from app.web.app import create_app
from tests.app.conftest import ROLES

# (method, path) -> the lowest role admitted; None = no key needed (health checks only)
POLICY: dict[tuple[str, str], str | None] = {
    ("GET", "/healthz"): None,
    ("GET", "/readyz"): None,
    ("GET", "/metrics"): "viewer",
    ("POST", "/v1/ingest"): "admin",
    ("GET", "/v1/clusters"): "viewer",
    ("GET", "/v1/clusters/changes"): "viewer",
    ("GET", "/v1/clusters/{cluster_id}"): "viewer",
    ("PATCH", "/v1/clusters/{cluster_id}"): "reviewer",
    ("GET", "/v1/clusters/{cluster_id}/members"): "viewer",
    ("GET", "/v1/clusters/{cluster_id}/graph"): "viewer",
    ("GET", "/v1/clusters/{cluster_id}/export"): "reviewer",
    ("GET", "/v1/clusters/{cluster_id}/layout"): "viewer",
    ("POST", "/v1/search"): "viewer",  # by personal values: reviewer (test_search_and_layout_api)
    ("GET", "/v1/me"): "viewer",
    ("GET", "/v1/accounts/{account_id}"): "viewer",
    ("GET", "/v1/runs"): "viewer",
    ("GET", "/v1/runs/{run_id}"): "viewer",
    ("POST", "/v1/runs"): "admin",
    ("GET", "/v1/stats"): "viewer",
    ("GET", "/v1/audit"): "admin",
}


def test_the_policy_names_every_route(ctx: Context) -> None:
    paths = create_app(ctx).openapi()["paths"]
    routes = {(m.upper(), path) for path, ops in paths.items() for m in ops}
    assert routes == set(POLICY), "a new endpoint needs its row in POLICY"


def _call(c: TestClient, method: str, path: str, ids: dict[str, str]) -> int:
    url = path.format(**ids)
    if method == "PATCH":
        return c.patch(url, json={"note": "role check"}, headers={"If-Match": "*"}).status_code
    if method == "POST" and url == "/v1/ingest":
        return c.post(
            url, content=b"", headers={"content-type": "application/x-ndjson"}
        ).status_code
    if method == "POST" and url == "/v1/search":
        return c.post(url, json={"query": ids["account_id"]}).status_code
    return c.request(method, url).status_code


def test_role_matrix(api: dict[str, TestClient]) -> None:
    """One world, every (endpoint, role) pair; all mismatches reported together."""
    v = api["viewer"]
    cluster = v.get("/v1/clusters", params={"limit": 1}).json()["items"][0]
    member = v.get(f"/v1/clusters/{cluster['id']}/members", params={"limit": 1}).json()
    ids = {
        "cluster_id": cluster["id"],
        "account_id": member["items"][0]["account_id"],
        "run_id": cluster["run_id"],
    }
    wrong = []
    for (method, path), needed in sorted(POLICY.items(), key=lambda kv: kv[0][0] == "POST"):
        for who in ("anonymous", *ROLES):
            status = _call(api[who], method, path, ids)
            if needed is None:
                ok = status == 200
            elif who == "anonymous":
                ok = status == 401
            elif ROLES.index(who) < ROLES.index(needed):
                ok = status == 403
            else:
                ok = status not in (401, 403) and status < 500
            if not ok:
                wrong.append((method, path, who, status))
    # let the run that POST /v1/runs started finish before the database goes away
    for _ in range(600):
        if all(r["status"] != "running" for r in v.get("/v1/runs").json()):
            break
        time.sleep(0.1)
    assert wrong == []

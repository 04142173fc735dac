"""Crafted requests get a 4xx problem document naming what was wrong, never a 500, on both
databases: NUL in ids and queries, out-of-range numbers, forged cursors, nulls, oversize tags."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"

CRAFTED = [
    ("get", "/v1/clusters?cursor=garbage", None, 400),
    ("get", "/v1/clusters/changes?cursor=%00%01", None, 400),
    ("get", "/v1/audit?before_id=99999999999999999999", None, 422),
    ("get", "/v1/clusters/hc_%00abc", None, 404),
    ("get", "/v1/clusters/hc_%00abc/members", None, 404),
    ("get", "/v1/accounts/acct%00x", None, 404),
    ("get", "/v1/runs/%00", None, 404),
    ("get", "/v1/clusters?status=new%00", None, 400),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), CRAFTED)
def test_crafted_requests_get_a_problem(
    api: dict[str, TestClient], method: str, path: str, body: Any, status: int
) -> None:
    r = api["admin"].request(method.upper(), path, json=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM


def _first_cluster(api: dict[str, TestClient]) -> tuple[str, str]:
    c = api["reviewer"]
    cid = c.get("/v1/clusters", params={"limit": 1}).json()["items"][0]["id"]
    return cid, c.get(f"/v1/clusters/{cid}").headers["etag"]


@pytest.mark.parametrize(
    ("update", "field"),
    [
        ({"status": None}, "status"),
        ({"tags": None}, "tags"),
        ({"tags": [f"t{i}" for i in range(21)]}, "tags"),
        ({"tags": ["x" * 65]}, "tags"),
        ({"tags": ["a\nb"]}, "tags"),
        ({"assignee": "a" * 129}, "assignee"),
        ({"notes": "x" * 20_001}, "notes"),
        ({"note": "bad\u0000note"}, "note"),
    ],
)
def test_review_fields_are_capped_and_never_null(
    api: dict[str, TestClient], update: dict[str, Any], field: str
) -> None:
    cid, etag = _first_cluster(api)
    r = api["reviewer"].patch(f"/v1/clusters/{cid}", json=update, headers={"If-Match": etag})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    assert field in r.text
    # nothing changed: the same ETag is still current
    assert api["reviewer"].get(f"/v1/clusters/{cid}").headers["etag"] == etag


def test_a_misspelt_query_parameter_is_refused_not_ignored(api: dict[str, TestClient]) -> None:
    """?flaged=true (sic) answered 200 with every cluster, flagged or not."""
    v = api["viewer"]
    r = v.get("/v1/clusters", params={"flaged": "true"})
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    (err,) = r.json()["errors"]
    assert err["loc"] == ["query", "flaged"] and "flagged" in err["msg"]
    assert v.get("/v1/clusters", params={"flagged": "true"}).status_code == 200
    cid = v.get("/v1/clusters", params={"limit": 1}).json()["items"][0]["id"]
    assert v.get(f"/v1/clusters/{cid}", params={"verbose": 1}).status_code == 422
    # dependencies' parameters count as the route's own (the members' cursor and sort)
    assert v.get(f"/v1/clusters/{cid}/members", params={"sort": "strength"}).status_code == 200
    # not the API: the console page and health checks take any query string
    assert v.get("/healthz", params={"probe": 1}).status_code == 200

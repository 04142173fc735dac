"""Rate limits, request ids and JSON logs, Prometheus metrics, problem documents."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient

from app.core.context import Context
from tests.app.conftest import clients_for


def test_rate_limit_per_key_answers_429_with_retry_after(ctx: Context) -> None:
    c = clients_for(ctx, rate_limit_per_minute=60, rate_limit_burst=3)
    codes = [c["viewer"].get("/v1/clusters").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = c["viewer"].get("/v1/clusters")
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert r.headers["content-type"] == "application/problem+json"
    assert "rate limit" in r.json()["detail"]
    # another key has its own bucket; health checks are never limited
    assert c["reviewer"].get("/v1/clusters").status_code == 200
    assert all(c["viewer"].get("/healthz").status_code == 200 for _ in range(5))


def test_request_id_is_returned_and_logged_as_json(
    ctx: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    c = clients_for(ctx)
    mine = c["viewer"].get("/v1/clusters", headers={"X-Request-ID": "dash-42"})
    assert mine.headers["x-request-id"] == "dash-42"
    made = c["viewer"].get("/v1/clusters", headers={"X-Request-ID": "bad id\n with spaces"})
    assert made.headers["x-request-id"] != "bad id\n with spaces"
    assert len(made.headers["x-request-id"]) == 32
    c["viewer"].get("/v1/accounts/secret-account-id")
    lines = [orjson.loads(x) for x in capsys.readouterr().err.splitlines() if x.startswith("{")]
    access = [x for x in lines if x.get("logger") == "hydrascope.access"]
    assert any(x["request_id"] == "dash-42" and x["status"] == 200 for x in access)
    assert {"method", "route", "duration_ms", "key_id"} <= set(access[0])
    lookup = next(x for x in access if x["status"] == 404)
    assert lookup["route"] == "/v1/accounts/{account_id}"
    assert "secret-account-id" not in str(access)


def test_metrics_need_a_key_and_count_requests(ctx: Context) -> None:
    c = clients_for(ctx)
    assert c["anonymous"].get("/metrics").status_code == 401
    c["viewer"].get("/v1/clusters")
    text = c["viewer"].get("/metrics").text
    assert 'hydrascope_http_requests_total{method="GET",route="/v1/clusters",status="200"}' in text
    assert "hydrascope_http_request_duration_seconds_bucket" in text
    assert "hydrascope_runs" in text


@pytest.mark.parametrize(
    ("method", "url", "body", "status"),
    [
        ("get", "/v1/clusters?limit=0", None, 422),
        ("get", "/v1/nowhere", None, 404),
        ("post", "/v1/clusters", None, 405),
        ("patch", "/v1/clusters/hc_x", b"{not json", 422),
    ],
)
def test_every_error_is_a_problem_document(
    ctx: Context, method: str, url: str, body: bytes | None, status: int
) -> None:
    c: TestClient = clients_for(ctx)["reviewer"]
    kwargs = {"content": body, "headers": {"content-type": "application/json"}} if body else {}
    r = getattr(c, method)(url, **kwargs) if method != "patch" else c.patch(url, **kwargs)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    doc = r.json()
    assert doc["status"] == status and doc["title"] and "detail" in doc

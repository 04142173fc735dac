"""POST /v1/ingest answers with the same summary as the command line."""

from __future__ import annotations

import gzip

from fastapi.testclient import TestClient

from app.auth.apikeys import create_key
from app.core.context import Context
from app.web.app import create_app
from tests.helpers import SAMPLE, account, ndjson


def client(ctx: Context, role: str = "admin") -> TestClient:
    with ctx.sessions() as s, s.begin():
        _, key = create_key(s, name=f"test {role}", role=role, actor="test")
    return TestClient(create_app(ctx), headers={"Authorization": f"Bearer {key}"})


def test_post_ingest_summary(ctx: Context) -> None:
    r = client(ctx).post(
        "/v1/ingest",
        content=SAMPLE.read_bytes() + b"{bad\n",
        headers={"content-type": "application/x-ndjson"},
    )
    assert r.status_code == 200
    body = r.json()
    assert body["accepted"] == {"account": 2, "payment_method": 2, "request": 3}
    assert body["rejected"] == 1 and body["errors"][0]["line"] == 8


def test_post_ingest_gzip_and_strict(ctx: Context) -> None:
    c = client(ctx)
    r = c.post("/v1/ingest?strict=true", content=gzip.compress(ndjson(account(1), b"{x")))
    # all or nothing, and nothing it was: an error status, the summary in the problem
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem")
    summary = r.json()["summary"]
    assert summary["strict_rolled_back"] is True and summary["errors"][0]["line"] == 2
    assert "nothing was stored" in r.json()["detail"] and _stored_accounts(ctx) == 0
    r = c.post("/v1/ingest", content=gzip.compress(ndjson(account(1))))
    assert r.json()["accepted"]["account"] == 1


def test_body_over_the_cap_is_refused_with_a_problem(ctx: Context) -> None:
    ctx.settings.ingest_max_body_bytes = 1024
    r = client(ctx).post("/v1/ingest", content=b"x" * 2048)
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "1024" in r.json()["detail"]


def _stored_accounts(ctx: Context) -> int:
    from app.ingest import repository

    with ctx.sessions() as s:
        return repository.table_counts(s)["accounts"]


def test_the_cap_counts_decompressed_bytes(ctx: Context) -> None:
    """A gzip bomb: 10 MB of valid lines in a few KB of gzip, against a 1 MB cap."""
    ctx.settings.ingest_max_body_bytes = 1 << 20
    lines = ndjson(*[account(i) for i in range(100_000)])
    bomb = gzip.compress(lines, compresslevel=9)
    assert len(bomb) < ctx.settings.ingest_max_body_bytes < len(lines)
    r = client(ctx).post("/v1/ingest", content=bomb)
    assert r.status_code == 413 and "after decompression" in r.json()["detail"]
    assert _stored_accounts(ctx) == 0, "nothing was stored"


def test_a_line_over_the_line_cap_is_refused_unread(ctx: Context) -> None:
    ctx.settings.ingest_max_line_bytes = 64 * 1024
    huge = ndjson(account(1)) + b'{"type": "account", "id": "' + b"a" * (8 << 20) + b'"}\n'
    r = client(ctx).post("/v1/ingest", content=gzip.compress(huge))
    assert r.status_code == 413 and "line 2 is longer" in r.json()["detail"]
    assert _stored_accounts(ctx) == 0


def test_gzip_members_and_broken_gzip(ctx: Context) -> None:
    c = client(ctx)
    two = gzip.compress(ndjson(account(1))) + gzip.compress(ndjson(account(2)))
    assert c.post("/v1/ingest", content=two).json()["accepted"]["account"] == 2
    r = c.post("/v1/ingest", content=gzip.compress(ndjson(account(3)))[:-12] + b"garbage-tail")
    assert r.status_code == 400 and "gzip" in r.json()["detail"]


def test_a_cut_off_gzip_body_is_refused_and_nothing_stored(ctx: Context) -> None:
    """An upload cut short decompresses up to the cut: its lines used to be stored as if the
    body were whole (200, the last line reported as malformed JSON)."""
    c = client(ctx)
    whole = gzip.compress(ndjson(*[account(i) for i in range(2000)]))
    for cut in (whole[: len(whole) // 2], whole[:30], b"\x1f\x8b\x08\x00garbage"):
        r = c.post("/v1/ingest", content=cut)
        assert r.status_code == 400 and "truncated" in r.json()["detail"], r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    # compressed twice: the inner stream would break only while storing, after commits
    for twice in (gzip.compress(whole[: len(whole) // 2]), gzip.compress(whole)):
        r = c.post("/v1/ingest", content=twice)
        assert r.status_code == 400 and "gzip inside gzip" in r.json()["detail"], r.text
    assert _stored_accounts(ctx) == 0
    assert c.post("/v1/ingest", content=whole).json()["accepted"]["account"] == 2000


def test_health_and_readiness(ctx: Context) -> None:
    c = client(ctx)
    assert c.get("/healthz").json() == {"status": "ok"}
    assert c.get("/readyz").json() == {"status": "ready"}


def test_openapi_publishes_the_record_schema(ctx: Context) -> None:
    spec = client(ctx).get("/openapi.json").json()
    body = spec["paths"]["/v1/ingest"]["post"]["requestBody"]["content"]["application/x-ndjson"]
    assert "RequestRecord" in body["x-record-schema"]["$defs"]


def test_ingest_needs_an_admin_key(ctx: Context) -> None:
    anonymous = TestClient(create_app(ctx))
    r = anonymous.post("/v1/ingest", content=SAMPLE.read_bytes())
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert r.headers["content-type"].startswith("application/problem+json")
    r = anonymous.post("/v1/ingest", content=b"", headers={"Authorization": "Bearer hs_nope_x"})
    assert r.status_code == 401
    r = client(ctx, "reviewer").post("/v1/ingest", content=SAMPLE.read_bytes())
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    assert anonymous.get("/healthz").status_code == 200

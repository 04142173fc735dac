"""Rendered responses are reused only while nothing was committed, in every worker process."""

from __future__ import annotations

import io
import time

from fastapi.testclient import TestClient
from sqlalchemy import text

from app.auth.apikeys import create_key, revoke_key
from app.cache.etag import CACHED
from app.cache.store import ENTRY_OVERHEAD, Rendered, ResponseCache
from app.core.context import Context
from app.ingest.service import make_ingestor
from app.web.app import create_app
from app.web.observability import REQUESTS
from tests.app.conftest import assert_redacted_for_viewers
from tests.helpers import ndjson, request


def _second_worker(ctx: Context, like: TestClient) -> TestClient:
    """Another server process on the same database: its own app, its own cache."""
    return TestClient(create_app(ctx), headers=dict(like.headers))


def _top(api: dict[str, TestClient]) -> str:
    page = api["viewer"].get("/v1/clusters", params={"flagged": True, "limit": 1}).json()
    return str(page["items"][0]["id"])


def test_a_decision_saved_through_one_worker_is_read_back_through_another(
    api: dict[str, TestClient], ctx: Context
) -> None:
    # worker A runs its lifespan (one kept connection for the data version, as under
    # uvicorn); worker B is driven without it (a connection per read)
    with _second_worker(ctx, api["reviewer"]) as worker_a:
        _read_back(api, worker_a, api["reviewer"])


def _read_back(api: dict[str, TestClient], worker_a: TestClient, worker_b: TestClient) -> None:
    url = f"/v1/clusters/{_top(api)}"
    first = worker_a.get(url)
    again = worker_a.get(url)
    cache: ResponseCache = worker_a.app.state.responses  # type: ignore[attr-defined]
    assert cache.hits >= 1 and again.content == first.content
    assert again.headers["etag"] == first.headers["etag"]
    assert worker_a.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304

    saved = worker_b.patch(
        url, json={"status": "in_review"}, headers={"If-Match": first.headers["etag"]}
    )
    assert saved.status_code == 200
    after = worker_a.get(url)
    assert after.json()["status"] == "in_review"
    assert after.headers["etag"] == saved.headers["etag"] != first.headers["etag"]
    queue = worker_a.get("/v1/clusters", params={"status": "in_review"}).json()["items"]
    assert [c["id"] for c in queue] == [url.rsplit("/", 1)[1]]


def test_a_viewer_never_gets_the_body_rendered_for_a_reviewer(
    api: dict[str, TestClient],
) -> None:
    url = f"/v1/clusters/{_top(api)}"
    full = api["reviewer"].get(url).json()  # rendered and kept first
    redacted = api["viewer"].get(url).json()
    assert_redacted_for_viewers(full, redacted)


def test_ingest_shows_in_an_account_lookup_at_once(
    api: dict[str, TestClient], ctx: Context
) -> None:
    c = api["reviewer"]
    with ctx.reads() as s:
        account_id = s.scalar(text("SELECT account_id FROM account_usage LIMIT 1"))
    url = f"/v1/accounts/{account_id}"
    before = c.get(url).json()
    assert c.get(url).json() == before  # served from the cache
    make_ingestor(ctx).ingest(
        io.BytesIO(ndjson(request(account_id, id="cache-test-1", ts="2026-02-01T00:00:00Z")))
    )
    after = c.get(url).json()
    assert after["usage"]["requests"] == before["usage"]["requests"] + 1


def test_cache_keeps_one_version_and_a_byte_budget() -> None:
    cache = ResponseCache(max_bytes=4000)
    body = Rendered(b"x" * (1000 - ENTRY_OVERHEAD), '"t"')  # costs a quarter of the budget
    for i in range(4):
        cache.put(i, 7, body)
    assert len(cache) == 4 and cache.get(0, 7) is body  # 0 is now the most recent
    cache.put(4, 7, body)  # over budget: the least recently used (1) goes
    assert cache.get(1, 7) is None and cache.get(0, 7) is body and cache.size <= 4000
    assert cache.get(0, 8) is None  # asked under a newer version: not served
    cache.put(0, 6, body)  # rendered before a commit the cache has already seen: dropped
    assert cache.version == 7
    cache.put(9, 8, body)  # a newer version empties the cache
    assert len(cache) == 1 and cache.get(9, 8) is body and cache.get(0, 8) is None
    cache.put("huge", 8, Rendered(b"y" * 1001, '"h"'))  # over a quarter of the budget
    assert cache.get("huge", 8) is None


def test_cache_off(api: dict[str, TestClient], ctx: Context) -> None:
    ctx.settings = ctx.settings.model_copy(update={"response_cache_mib": 0})
    c = _second_worker(ctx, api["viewer"])
    url = f"/v1/clusters/{_top(api)}"
    assert c.get(url).json() == c.get(url).json()
    assert len(c.app.state.responses) == 0  # type: ignore[attr-defined]


def _cached_detail(api: dict[str, TestClient], ctx: Context, **settings: object) -> tuple:
    """A fresh app (own caches) with ``settings``, a reviewer key, and a detail it rendered."""
    ctx.settings = ctx.settings.model_copy(update=settings)
    with ctx.sessions() as s, s.begin():
        row, key = create_key(s, name="cached", role="reviewer", actor="test")
        key_id = row.id
    c = TestClient(create_app(ctx), headers={"Authorization": f"Bearer {key}"})
    url = f"/v1/clusters/{_top(api)}"
    assert c.get(url).status_code == 200
    return c, url, key_id


def test_a_cached_answer_still_needs_a_live_key(api: dict[str, TestClient], ctx: Context) -> None:
    c, url, key_id = _cached_detail(api, ctx, api_key_cache_seconds=0.2)
    assert c.get(url).status_code == 200
    assert c.get(url, headers={"Authorization": "Bearer hs_nope"}).status_code == 401
    assert TestClient(c.app).get(url).status_code == 401  # no key at all
    with ctx.sessions() as s, s.begin():
        revoke_key(s, key_id, actor="test")
    time.sleep(0.3)  # the key cache's lifetime
    refused = c.get(url)
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_cached_answers_are_charged_to_the_rate_limit(
    api: dict[str, TestClient], ctx: Context
) -> None:
    c, url, _ = _cached_detail(api, ctx, rate_limit_per_minute=1, rate_limit_burst=3)
    codes = [c.get(url).status_code for _ in range(4)]  # the first GET above took one token
    assert codes == [200, 200, 429, 429]
    assert "retry-after" in {k.lower() for k in c.get(url).headers}


def test_cached_answers_are_logged_and_counted_under_their_route(
    api: dict[str, TestClient], ctx: Context
) -> None:
    c, url, _ = _cached_detail(api, ctx)
    served = REQUESTS.labels("GET", "/v1/clusters/{cluster_id}", "200")
    hits = CACHED.labels("hit")
    before, hits_before = served._value.get(), hits._value.get()
    first = c.get(url)
    assert c.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    assert served._value.get() == before + 1 and hits._value.get() == hits_before + 2
    assert first.headers["x-request-id"]

"""Account lookup and the bounded cluster graph."""

from __future__ import annotations

from fastapi.testclient import TestClient

Clients = dict[str, TestClient]


def _flagged_member(api: Clients) -> tuple[dict, str]:
    top = api["viewer"].get("/v1/clusters", params={"flagged": True, "sort": "size"}).json()
    cluster = top["items"][0]
    m = api["viewer"].get(f"/v1/clusters/{cluster['id']}/members", params={"limit": 1}).json()
    return cluster, m["items"][0]["account_id"]


def test_account_lookup_shows_its_cluster_links_and_observations(api: Clients) -> None:
    cluster, acct = _flagged_member(api)
    full = api["reviewer"].get(f"/v1/accounts/{acct}")
    assert full.status_code == 200 and full.headers["etag"]
    body = full.json()
    assert body["account"]["id"] == acct
    assert body["cluster"]["cluster_id"] == cluster["id"] and body["cluster"]["flagged"]
    assert body["past_clusters"] == []
    assert body["links"] and all(x["cluster_id"] == cluster["id"] for x in body["links"])
    kinds = {o["kind"]: o for o in body["observations"]}
    assert "ip" in kinds and kinds["ip"]["requests"] == body["usage"]["requests"]
    assert any(v["value"] for v in kinds["ip"]["top"])
    # templates come from the activity windows: the same request totals
    assert kinds["template"]["requests"] == body["usage"]["requests"]
    assert kinds["template"]["top"][0]["value"] and kinds["template"]["top"][0]["first_seen"]


def test_viewers_get_the_shape_without_personal_values(api: Clients) -> None:
    _, acct = _flagged_member(api)
    full = api["reviewer"].get(f"/v1/accounts/{acct}").json()
    shape = api["viewer"].get(f"/v1/accounts/{acct}").json()
    assert full["account"]["email"] and shape["account"]["email"] is None
    assert shape["account"]["signup_ip"] is None and shape["account"]["device_id"] is None
    for o in shape["observations"]:
        if o["kind"] in ("ip", "ip_range"):
            assert all(v["value"] is None for v in o["top"])
    assert all(p["fingerprint"] is None for p in shape["payment_methods"])
    # user agents are public kinds: the sign-up one as the observed ones (it was hidden)
    agents = [o for o in shape["observations"] if o["kind"] == "user_agent"]
    assert agents and all(v["value"] for o in agents for v in o["top"])
    assert shape["account"]["user_agent"] == full["account"]["user_agent"] is not None
    raw = api["viewer"].get(f"/v1/accounts/{acct}").content
    assert full["account"]["email"].encode() not in raw


def test_past_clusters_after_a_rerun(api: Clients, ctx: object) -> None:
    from app.detection import service
    from graph import DetectParams

    cluster, acct = _flagged_member(api)
    service.detect(ctx, DetectParams(seed=0))  # type: ignore[arg-type]
    body = api["viewer"].get(f"/v1/accounts/{acct}").json()
    assert body["cluster"]["cluster_id"] == cluster["id"]
    assert [p["cluster_id"] for p in body["past_clusters"]] == [cluster["id"]]
    assert body["past_clusters"][0]["run_id"] != body["cluster"]["run_id"]


def test_unknown_account_is_a_404_problem(api: Clients) -> None:
    r = api["viewer"].get("/v1/accounts/nobody")
    assert r.status_code == 404 and r.json()["detail"] == "no account 'nobody'"
    long = api["viewer"].get("/v1/accounts/" + "a" * 5000).json()["detail"]  # not echoed whole
    assert len(long) < 150 and "(5000 characters)" in long


def test_graph_is_bounded_and_says_how(api: Clients) -> None:
    cluster, _ = _flagged_member(api)
    url = f"/v1/clusters/{cluster['id']}/graph"
    whole = api["viewer"].get(url, params={"max_nodes": 2000}).json()
    ids = {n["id"] for n in whole["nodes"]}
    assert len(ids) == cluster["size"] == whole["bounds"]["total_members"]
    assert whole["edges"] and all(e["source"] in ids and e["target"] in ids for e in whole["edges"])
    assert all(e["families"] for e in whole["edges"])
    small = api["viewer"].get(url, params={"max_nodes": 3}).json()
    assert len(small["nodes"]) == 3 and small["bounds"]["truncated"] is True
    kept = {n["id"] for n in small["nodes"]}
    assert all(e["source"] in kept and e["target"] in kept for e in small["edges"])
    assert "max_nodes" in small["bounds"]["method"]
    assert api["viewer"].get(url, params={"max_nodes": 1}).status_code == 422

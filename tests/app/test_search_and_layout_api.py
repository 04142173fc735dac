"""What the console added to the API: POST /v1/search (ids and personal values, by role),
GET /v1/clusters/{id}/layout, members strongest first, the assignee in queue rows."""

from __future__ import annotations

import networkx as nx
from fastapi.testclient import TestClient

Clients = dict[str, TestClient]


def _flagged(api: Clients) -> tuple[dict, dict]:
    """The biggest flagged cluster and one member's account as a reviewer sees it."""
    top = api["viewer"].get("/v1/clusters", params={"flagged": True, "sort": "size"}).json()
    cluster = top["items"][0]
    m = api["viewer"].get(f"/v1/clusters/{cluster['id']}/members", params={"limit": 1}).json()
    acct = api["reviewer"].get(f"/v1/accounts/{m['items'][0]['account_id']}").json()
    return cluster, acct


def _search(client: TestClient, **body: object) -> tuple[int, dict]:
    r = client.post("/v1/search", json=body)
    return r.status_code, r.json()


def test_search_by_account_id_and_its_start_links_the_current_cluster(api: Clients) -> None:
    cluster, acct = _flagged(api)
    aid = acct["account"]["id"]
    status, body = _search(api["viewer"], query=aid)
    assert status == 200 and body["kinds"] == ["account"]
    hit = body["items"][0]
    assert hit["account_id"] == aid and hit["matched"] == "account"
    assert hit["cluster"]["cluster_id"] == cluster["id"] and hit["cluster"]["flagged"]
    status, body = _search(api["viewer"], query=aid[:-1], limit=3)
    ids = [i["account_id"] for i in body["items"]]
    assert status == 200 and len(ids) == 3 and all(i.startswith(aid[:-1]) for i in ids)
    assert body["truncated"] is True


def test_search_by_cluster_id_prefix(api: Clients) -> None:
    cluster, _ = _flagged(api)
    status, body = _search(api["viewer"], query=cluster["id"][:8])
    assert status == 200 and body["kinds"] == ["cluster"]
    assert cluster["id"] in [i["cluster_id"] for i in body["items"] if i["type"] == "cluster"]


def test_reviewers_search_by_email_ip_device_and_card(api: Clients) -> None:
    _, acct = _flagged(api)
    a = acct["account"]
    aid = a["id"]
    local, _, domain = a["email"].partition("@")
    queries = {
        # written differently from the stored form: normalised the same way before keying
        "email": f"{local.upper()}+tag@{domain}",
        "ip": a["signup_ip"],
        "device": a["device_id"],
        "card": acct["payment_methods"][0]["fingerprint"],
    }
    for kind, q in queries.items():
        assert q, kind
        status, body = _search(api["reviewer"], query=q, kind=kind, limit=100)
        assert status == 200, body
        assert aid in [i["account_id"] for i in body["items"]], kind
        assert all(i["matched"] == kind for i in body["items"])
    status, body = _search(api["reviewer"], query=queries["email"])  # auto: an email
    assert status == 200 and body["kinds"] == ["email"] and body["items"]


def test_viewers_may_not_search_personal_values(api: Clients) -> None:
    for body in (
        {"query": "someone@example.com"},
        {"query": "10.1.2.3"},
        {"query": "x", "kind": "card"},
    ):
        r = api["viewer"].post("/v1/search", json=body)
        assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
        assert "reviewer role" in r.json()["detail"]
    assert api["anonymous"].post("/v1/search", json={"query": "acct_1"}).status_code == 401


def test_bad_searches_are_problem_documents(api: Clients) -> None:
    for body in (
        {"query": ""},
        {"query": "   "},
        {"query": "x" * 257},
        {"query": "acct\u0000"},
        {"query": "a\nb"},
        {"query": "acct", "kind": "phone"},
        {"query": "acct", "limit": 0},
        {"query": "acct", "extra": 1},
        {},
    ):
        r = api["reviewer"].post("/v1/search", json=body)
        assert r.status_code == 422, body
        assert r.headers["content-type"] == "application/problem+json" and r.json()["errors"]
        # in words, not a regular expression
        assert not any("pattern" in e["msg"] for e in r.json()["errors"]), r.json()
    empty = api["reviewer"].post("/v1/search", json={"query": " "}).json()["errors"][0]["msg"]
    assert "the query is empty" in empty
    status, body = _search(api["reviewer"], query="no-such-thing")
    assert status == 200 and body["items"] == [] and body["truncated"] is False
    status, body = _search(api["reviewer"], query="acct%", kind="account")  # LIKE escaped
    assert status == 200 and body["items"] == []


def test_layout_joins_the_cluster_through_shared_value_hubs(api: Clients) -> None:
    cluster, _ = _flagged(api)
    r = api["viewer"].get(f"/v1/clusters/{cluster['id']}/layout")
    assert r.status_code == 200 and r.headers["etag"]
    body = r.json()
    members = [n for n in body["nodes"] if n["type"] == "member"]
    hubs = [n for n in body["nodes"] if n["type"] == "value"]
    assert len(members) == cluster["size"] and hubs
    assert all(0 <= n["x"] <= body["extent"] and 0 <= n["y"] <= body["extent"] for n in members)
    assert all(n["family"] for n in members)
    ids = {n["id"] for n in body["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in body["edges"])
    g = nx.Graph([(e["source"], e["target"]) for e in body["edges"]])
    g.add_nodes_from(ids)
    # stored pairwise edges alone leave islands; the hubs join them up
    pairs = nx.Graph(
        [
            (e["source"], e["target"])
            for e in body["edges"]
            if e["target"] not in {h["id"] for h in hubs}
        ]
    )
    assert nx.number_connected_components(g) <= nx.number_connected_components(pairs)
    assert nx.number_connected_components(g) <= 2
    # deterministic: the same bytes twice (the response cache is per data version)
    again = api["viewer"].get(f"/v1/clusters/{cluster['id']}/layout", params={"max_nodes": 400})
    assert again.json()["nodes"] == body["nodes"]


def test_layout_hides_personal_hub_values_from_viewers(api: Clients) -> None:
    cluster, _ = _flagged(api)
    full = api["reviewer"].get(f"/v1/clusters/{cluster['id']}/layout").json()
    shape = api["viewer"].get(f"/v1/clusters/{cluster['id']}/layout").json()
    public = ("template", "user_agent", "signup_burst")
    assert any(
        n["label"] for n in full["nodes"] if n["type"] == "value" and n["kind"] not in public
    )
    assert not any(
        n["label"] for n in shape["nodes"] if n["type"] == "value" and n["kind"] not in public
    )


def test_layout_bad_input(api: Clients) -> None:
    r = api["viewer"].get("/v1/clusters/hc_nope/layout")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    cluster, _ = _flagged(api)
    r = api["viewer"].get(f"/v1/clusters/{cluster['id']}/layout", params={"max_nodes": 1})
    assert r.status_code == 422 and r.json()["errors"]
    assert api["anonymous"].get(f"/v1/clusters/{cluster['id']}/layout").status_code == 401


def test_queue_rows_carry_the_assignee(api: Clients) -> None:
    cluster, _ = _flagged(api)
    r = api["reviewer"].get(f"/v1/clusters/{cluster['id']}")
    r = api["reviewer"].patch(
        f"/v1/clusters/{cluster['id']}",
        json={"assignee": "alice"},
        headers={"If-Match": r.headers["etag"]},
    )
    assert r.status_code == 200
    rows = api["viewer"].get("/v1/clusters", params={"flagged": True, "sort": "size"}).json()
    assert rows["items"][0]["assignee"] == "alice"


def test_members_strongest_first_page_through_every_member_once(api: Clients) -> None:
    cluster, _ = _flagged(api)
    seen: list[tuple[float, str]] = []
    cursor = None
    while True:
        params: dict = {"sort": "strength", "limit": 7}
        if cursor:
            params["cursor"] = cursor
        page = api["viewer"].get(f"/v1/clusters/{cluster['id']}/members", params=params).json()
        seen += [(m["strength"], m["account_id"]) for m in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == cluster["size"] == len({a for _, a in seen})
    assert seen == sorted(seen, key=lambda x: (-x[0], x[1]))
    by_id = api["viewer"].get(f"/v1/clusters/{cluster['id']}/members", params={"limit": 7})
    # a cursor of one sort is refused by the other, with a problem document
    r = api["viewer"].get(
        f"/v1/clusters/{cluster['id']}/members",
        params={"sort": "strength", "cursor": by_id.json()["next_cursor"]},
    )
    assert r.status_code == 400 and "another sort" in r.json()["detail"]
    r = api["viewer"].get(f"/v1/clusters/{cluster['id']}/members", params={"sort": "size"})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


def test_the_report_picture_draws_shared_values_as_hubs(api: Clients) -> None:
    cluster, _ = _flagged(api)
    for redaction in ("internal", "shareable"):
        r = api["reviewer"].get(
            f"/v1/clusters/{cluster['id']}/export",
            params={"format": "html", "redaction": redaction},
        )
        assert r.status_code == 200
        svg = r.text[r.text.index("<svg") : r.text.index("</svg>")]
        # one diamond per shared value held by two or more drawn members, plus the legend's
        assert svg.count("<polygon") >= 2 and svg.count("<circle") == min(cluster["size"], 150)

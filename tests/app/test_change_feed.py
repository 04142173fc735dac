"""The dashboards' change feed, strong ETags, and pagination while clusters change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from fastapi.testclient import TestClient

from app.core.context import Context
from app.detection import service
from graph import DetectParams
from graph.build import BuildParams

Clients = dict[str, TestClient]


def drain(c: TestClient, cursor: str | None = None, **params: Any) -> tuple[list[dict], str]:
    items: list[dict] = []
    while True:
        q = {"limit": 7, **params}
        if cursor:
            q["cursor"] = cursor
        page = c.get("/v1/clusters/changes", params=q)
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return items, cursor


def review(c: TestClient, cluster_id: str, **body: Any) -> dict:
    tag = c.get(f"/v1/clusters/{cluster_id}").headers["etag"]
    r = c.patch(f"/v1/clusters/{cluster_id}", json=body, headers={"If-Match": tag})
    assert r.status_code == 200, r.text
    return r.json()


def test_feed_lists_every_cluster_once_then_only_what_changed(api: Clients) -> None:
    v = api["viewer"]
    live = {x["id"] for x in v.get("/v1/clusters", params={"limit": 500}).json()["items"]}
    items, cursor = drain(v)
    assert [x["id"] for x in items if not x["gone"]] and {x["id"] for x in items} == live
    seqs = [x["seq"] for x in items]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    # nothing changed: an empty page that keeps the position
    again, same = drain(v, cursor)
    assert again == [] and same == cursor
    target = sorted(live)[3]
    review(api["reviewer"], target, status="in_review", note="looking")
    changed, _ = drain(v, cursor)
    assert [x["id"] for x in changed] == [target] and changed[0]["status"] == "in_review"
    assert changed[0]["seq"] > seqs[-1]
    # updated_since starts the feed at a time instead of a cursor
    since = v.get("/v1/clusters/changes", params={"updated_since": changed[0]["updated_at"]})
    assert [x["id"] for x in since.json()["items"]] == [target]
    bad = v.get("/v1/clusters/changes", params={"cursor": "eyJ4Ijox"})
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"


def test_updated_since_names_an_instant_whatever_its_offset(api: Clients) -> None:
    # SQLite compared the parameter's wall-clock text and dropped its offset: a dashboard
    # polling with its local offset got hours of changes too many or too few
    v = api["viewer"]
    live = sorted(x["id"] for x in v.get("/v1/clusters", params={"limit": 500}).json()["items"])
    _, cursor = drain(v)
    target = live[5]
    review(api["reviewer"], target, status="in_review", note="offsets")
    changed, _ = drain(v, cursor)
    stamp = datetime.fromisoformat(changed[0]["updated_at"])
    forms = [
        stamp.astimezone(timezone(timedelta(hours=2))).isoformat(),
        stamp.astimezone(timezone(timedelta(hours=-5))).isoformat(),
        stamp.astimezone(UTC).replace(tzinfo=None).isoformat(),  # no offset: UTC
    ]
    for form in forms:
        feed = v.get("/v1/clusters/changes", params={"updated_since": form})
        assert [x["id"] for x in feed.json()["items"]] == [target], form
        page = v.get("/v1/clusters", params={"updated_since": form, "limit": 500})
        assert [x["id"] for x in page.json()["items"]] == [target], form


def test_tombstones_for_merged_and_vanished_clusters(api: Clients, ctx: Context) -> None:
    v = api["viewer"]
    before, cursor = drain(v)
    # a much stricter re-run: most links fall below the edge floor, clusters vanish
    service.detect(ctx, DetectParams(seed=0, build=BuildParams(min_edge_weight=5.0)))
    after, _ = drain(v, cursor)
    gone = [x for x in after if x["gone"]]
    assert gone, "a stricter run must retire clusters"
    for t in gone:
        assert t["gone_reason"] in ("merged", "vanished") and t["flagged"] is False
        assert t["summary"] is None and (t["successors"] != []) == (t["gone_reason"] == "merged")
    live = {x["id"] for x in v.get("/v1/clusters", params={"limit": 500}).json()["items"]}
    assert not live & {t["id"] for t in gone}
    # a tombstone's detail still answers with its last evidence (history is not lost)
    detail = v.get(f"/v1/clusters/{gone[0]['id']}")
    assert detail.status_code == 200 and detail.json()["gone"] is True
    assert detail.json()["gone_reason"] == gone[0]["gone_reason"] and detail.json()["summary"]
    # the next normal run's clusters reach the feed as live entries
    service.detect(ctx, DetectParams(seed=0))
    back, _ = drain(v, cursor)
    assert any(not x["gone"] for x in back) and len(before) > 0


def test_strong_etags_on_lists_answer_304(api: Clients) -> None:
    v = api["viewer"]
    for url in ("/v1/clusters", "/v1/clusters/changes", "/v1/stats"):
        first = v.get(url)
        tag = first.headers.get("etag")
        if url == "/v1/stats" and tag is None:
            continue
        assert tag and not tag.startswith("W/"), url
        assert v.get(url, headers={"If-None-Match": tag}).status_code == 304
    first = v.get("/v1/clusters")
    top = first.json()["items"][0]["id"]
    review(api["reviewer"], top, assignee="ana")
    second = v.get("/v1/clusters", headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200 and second.headers["etag"] != first.headers["etag"]
    # a viewer's redacted detail and a reviewer's full one never share a tag
    vt = v.get(f"/v1/clusters/{top}").headers["etag"]
    rt = api["reviewer"].get(f"/v1/clusters/{top}").headers["etag"]
    assert vt != rt


def test_pagination_stays_correct_while_clusters_change(api: Clients, ctx: Context) -> None:
    v, r = api["viewer"], api["reviewer"]
    everything = v.get("/v1/clusters", params={"limit": 500}).json()["items"]
    ids = [x["id"] for x in everything]
    seen: list[str] = []
    touched: set[str] = set()
    cursor = None
    step = 0
    while True:
        params: dict[str, Any] = {"limit": 5, "sort": "updated"}
        if cursor:
            params["cursor"] = cursor
        page = v.get("/v1/clusters", params=params).json()
        seen += [x["id"] for x in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
        # between pages: a reviewer changes a cluster not yet seen, and once a run finishes
        unseen = [i for i in ids if i not in seen and i not in touched]
        if unseen:
            review(r, unseen[-1], tags=[f"t{step}"])
            touched.add(unseen[-1])
        if step == 1:
            service.detect(ctx, DetectParams(seed=0))
        step += 1
    assert len(seen) == len(set(seen)), "no cluster twice"
    assert set(ids) - touched <= set(seen), "no unchanged cluster skipped"
    # the feed from before the first change catches every touched cluster
    items, _ = drain(v)
    assert touched <= {x["id"] for x in items}


def test_members_cursor_is_pinned_to_its_run(api: Clients, ctx: Context) -> None:
    v = api["viewer"]
    top = v.get("/v1/clusters", params={"flagged": True, "limit": 1}).json()["items"][0]
    first = v.get(f"/v1/clusters/{top['id']}/members", params={"limit": 2}).json()
    service.detect(ctx, DetectParams(seed=0))
    rest = v.get(
        f"/v1/clusters/{top['id']}/members", params={"limit": 1000, "cursor": first["next_cursor"]}
    ).json()
    ids = [m["account_id"] for m in first["items"] + rest["items"]]
    assert len(ids) == len(set(ids)) == top["size"]
    m = first["items"][0]
    assert m["behaviour"]["requests"] > 0 and m["behaviour"]["signed_up"]
    assert m["evidence"]["links"] >= 1 and m["evidence"]["families"]


def test_regrown_clusters_are_surfaced_in_list_and_feed(api: Clients, ctx: Context) -> None:
    import io

    from app.ingest.service import make_ingestor
    from tests.app.conftest import small_api_world
    from tests.helpers import ndjson

    world = small_api_world()
    truth = dict(world.truth())
    v = api["viewer"]
    flagged = v.get("/v1/clusters", params={"flagged": True, "limit": 500}).json()["items"]
    farm_id, seed = next(
        (c["id"], m["account_id"])
        for c in flagged
        for m in v.get(f"/v1/clusters/{c['id']}/members", params={"limit": 1}).json()["items"]
        if truth[m["account_id"]] == "cardfarm"
    )
    review(api["reviewer"], farm_id, status="confirmed")
    _, cursor = drain(v)
    # the hydra regrows a head: the seed account's card, device, proxy and prompts
    head = dict(next(a for a in world.accounts if a["id"] == seed), id="acct_new_head")
    card = next(p for p in world.payments if p["account_id"] == seed)
    reqs = [
        dict(r, id=f"new_{i}", account_id="acct_new_head")
        for i, r in enumerate(r for r in world.records() if r.get("account_id") == seed)
    ]
    make_ingestor(ctx).ingest(
        io.BytesIO(ndjson(head, dict(card, account_id="acct_new_head"), *reqs))  # type: ignore[arg-type]
    )
    service.detect(ctx, DetectParams(seed=0))
    regrown = v.get("/v1/clusters", params={"regrown": True}).json()["items"]
    assert [x["id"] for x in regrown] == [farm_id]
    changed, _ = drain(v, cursor)
    entry = next(x for x in changed if x["id"] == farm_id)
    assert entry["regrown"] and entry["status"] == "confirmed"
    detail = v.get(f"/v1/clusters/{farm_id}").json()
    assert "acct_new_head" in detail["lineage"]["regrowth"]

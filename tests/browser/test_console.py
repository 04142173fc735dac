"""The review console in Chromium, walked as a reviewer and as a viewer (issue #14)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import WIDTHS, Served

pytestmark = pytest.mark.slow

# what must never appear in a URL the console makes: emails and IP addresses
PERSONAL = re.compile(r"@|\b\d{1,3}(\.\d{1,3}){3}\b")


def _assert_no_personal_urls(open_page: Any, *values: str) -> None:
    """No request or address the page used holds an email, an IP or any of ``values``."""
    for url in open_page.watch.urls:
        rest = url.split("/", 3)[-1]  # past scheme and host (127.0.0.1 is ours)
        assert not PERSONAL.search(rest), url
        assert not any(v and v.lower() in rest.lower() for v in values), url


def _expect(page: Any) -> Any:
    from playwright.sync_api import expect

    return expect


def _rows(page: Any) -> Any:
    return page.get_by_test_id("cluster-row")


def _flagged(served: Served) -> list[dict]:
    r = httpx.get(
        f"{served.url}/v1/clusters",
        params={"flagged": True, "sort": "size", "limit": 100},
        headers={"Authorization": f"Bearer {served.keys['viewer']}"},
    )
    return list(r.json()["items"])


def _biggest_flagged(served: Served) -> dict:
    return _flagged(served)[0]


def test_reviewer_filters_the_queue_opens_a_cluster_and_decides(
    open_page: Any, served: Served
) -> None:
    page = open_page("reviewer")
    expect = _expect(page)
    expect(_rows(page).first).to_be_visible()
    assert _rows(page).count() > 50  # one page of 100: the whole small world
    expect(page.get_by_test_id("count-new")).not_to_have_text("0")
    # filters go to the API and into the URL hash (a deep link)
    flagged = _flagged(served)
    page.locator("#filters select[name=flagged]").select_option("true")
    expect(page).to_have_url(re.compile(r"#queue\?flagged=true"))
    expect(_rows(page)).to_have_count(len(flagged))
    # the status line counts what the filtered list holds ("100+ clusters" read as a total)
    expect(page.locator("#status")).to_have_text(f"{len(flagged)} matching clusters shown")
    page.locator("#filters select[name=sort]").select_option("size")
    expect(page).to_have_url(re.compile(r"flagged=true&sort=size"))
    big = flagged[0]
    expect(_rows(page).first).to_have_attribute("data-cluster-id", big["id"])
    # keyboard: Esc leaves the filter field, j selects the first row, Enter opens it
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"#cluster/{big['id']}\?flagged=true&sort=size"))
    expect(page.get_by_test_id("cluster-title")).to_have_text(big["id"])
    expect(page.get_by_test_id("score-drivers")).to_contain_text("raises")
    expect(page.get_by_test_id("graph-node").first).to_be_attached()
    assert page.get_by_test_id("graph-node").count() == big["size"]
    # evidence tables: the rest of a family's values one click away
    more = page.get_by_test_id("evidence-more").first
    if more.count():
        hidden = page.locator("tr.extra[hidden]").count()
        more.click()
        assert page.locator("tr.extra[hidden]").count() < hidden
    # members: 50 a page
    expect(page.get_by_test_id("members-range")).to_contain_text(f"1–50 of {big['size']}")
    page.get_by_test_id("members-next").click()
    expect(page.get_by_test_id("members-range")).to_contain_text("51–")
    page.get_by_test_id("members-sort").select_option("strength")  # back to page one
    expect(page.get_by_test_id("members-range")).to_contain_text("1–50 of")
    strengths = page.locator("[data-testid=members] tr td:nth-child(2)").all_inner_texts()
    values = [float(v.replace(",", "")) for v in strengths]
    assert values == sorted(values, reverse=True)
    # a deep link survives a reload
    page.reload()
    page.get_by_test_id("key-input").fill(served.keys["reviewer"])
    page.get_by_test_id("key-input").press("Enter")
    expect(page.get_by_test_id("cluster-title")).to_have_text(big["id"])
    expect(page.locator("#filters select[name=flagged]")).to_have_value("true")
    # the decision: status, assignee, tags and a note, sent with If-Match
    page.get_by_test_id("decision-status").select_option("confirmed")
    page.get_by_test_id("decision-assignee").fill("alice")
    page.get_by_test_id("decision-tags").fill("INC-1, card farm")
    page.get_by_test_id("decision-note").fill("same cards as INC-1")
    page.get_by_test_id("decision-save").click()
    expect(page.get_by_test_id("review-status")).to_contain_text("Saved: confirmed")
    row = page.locator(f"[data-testid=cluster-row][data-cluster-id={big['id']}]")
    expect(row.get_by_test_id("row-status")).to_have_text("confirmed")
    expect(row.get_by_test_id("row-assignee")).to_contain_text("alice")
    expect(page.get_by_test_id("count-confirmed")).to_have_text("1")
    expect(page.get_by_test_id("history")).to_contain_text("same cards as INC-1")
    # one key per status
    page.keyboard.press("i")
    expect(page.get_by_test_id("review-status")).to_contain_text("Saved: in review")
    expect(row.get_by_test_id("row-status")).to_have_text("in review")
    detail = httpx.get(
        f"{served.url}/v1/clusters/{big['id']}",
        headers={"Authorization": f"Bearer {served.keys['viewer']}"},
    ).json()
    assert detail["status"] == "in_review" and detail["assignee"] == "alice"
    assert detail["tags"] == ["INC-1", "card farm"]
    assert [h["to_status"] for h in detail["history"][:2]] == ["in_review", "confirmed"]
    _assert_no_personal_urls(open_page)


def test_bulk_status_for_ticked_clusters(open_page: Any, served: Served) -> None:
    picked = [c["id"] for c in _flagged(served)[-2:]]  # the smallest flagged ones
    page = open_page("reviewer")
    expect = _expect(page)
    expect(_rows(page).first).to_be_visible()
    for cid in picked:
        page.locator(f"[data-testid=cluster-row][data-cluster-id={cid}]").get_by_test_id(
            "row-select"
        ).check()
    page.get_by_test_id("bulk-status").select_option("dismissed")
    page.get_by_test_id("bulk-apply").click()
    expect(page.get_by_test_id("bulk-result")).to_have_text("2 set to dismissed.")
    for cid in picked:
        row = page.locator(f"[data-testid=cluster-row][data-cluster-id={cid}]")
        expect(row.get_by_test_id("row-status")).to_have_text("dismissed")
        detail = httpx.get(
            f"{served.url}/v1/clusters/{cid}",
            headers={"Authorization": f"Bearer {served.keys['viewer']}"},
        ).json()
        assert detail["status"] == "dismissed"
        assert detail["history"][0]["note"] == "bulk: 2 clusters set to dismissed"
    expect(page.get_by_test_id("count-dismissed")).to_have_text("2")


def test_a_stale_decision_gets_a_one_click_reload(open_page: Any, served: Served) -> None:
    big = _biggest_flagged(served)
    page = open_page("reviewer", hash=f"#cluster/{big['id']}")
    expect = _expect(page)
    expect(page.get_by_test_id("cluster-title")).to_have_text(big["id"])
    # another reviewer records a decision behind this page's back
    h = {"Authorization": f"Bearer {served.keys['admin']}"}
    etag = httpx.get(f"{served.url}/v1/clusters/{big['id']}", headers=h).headers["etag"]
    r = httpx.patch(
        f"{served.url}/v1/clusters/{big['id']}",
        json={"note": "looked at it first"},
        headers={**h, "If-Match": etag},
    )
    assert r.status_code == 200
    page.get_by_test_id("decision-note").fill("my reasons")
    page.get_by_test_id("decision-save").click()
    expect(page.get_by_test_id("review-status")).to_contain_text("Someone changed this cluster")
    page.get_by_test_id("decision-reload").click()
    expect(page.get_by_test_id("history")).to_contain_text("looked at it first")
    expect(page.get_by_test_id("decision-note")).to_have_value("my reasons")
    page.get_by_test_id("decision-save").click()
    expect(page.get_by_test_id("review-status")).to_contain_text("Saved")
    expect(page.get_by_test_id("history")).to_contain_text("my reasons")


def test_exports_download_with_the_chosen_redaction(open_page: Any, served: Served) -> None:
    big = _biggest_flagged(served)
    page = open_page("reviewer", hash=f"#cluster/{big['id']}")
    expect = _expect(page)
    links = page.get_by_test_id("export-link")
    expect(links.first).to_be_visible()
    assert {links.nth(i).get_attribute("data-format") for i in range(links.count())} == {
        "bundle",
        "html",
        "pdf",
        "graphml",
        "gexf",
        "stix",
        "misp",
    }
    page.get_by_test_id("export-redaction").select_option("shareable")
    with page.expect_download() as got:
        page.locator("[data-testid=export-link][data-format=graphml]").click()
    download = got.value
    assert download.suggested_filename.endswith(".graphml")
    text = Path(download.path()).read_text(encoding="utf-8")
    assert "shareable" in text and big["id"] in text


def test_search_by_email_opens_the_account_and_graph_nodes_link_to_accounts(
    open_page: Any, served: Served
) -> None:
    big = _biggest_flagged(served)
    h = {"Authorization": f"Bearer {served.keys['reviewer']}"}
    first = httpx.get(f"{served.url}/v1/clusters/{big['id']}/members?limit=1", headers=h).json()
    acct = httpx.get(
        f"{served.url}/v1/accounts/{first['items'][0]['account_id']}", headers=h
    ).json()
    email = acct["account"]["email"]
    page = open_page("reviewer")
    expect = _expect(page)
    expect(_rows(page).first).to_be_visible()
    page.keyboard.press("/")
    page.keyboard.type(email.upper())
    page.keyboard.press("Enter")
    hit = page.get_by_test_id("search-hit").first
    expect(hit).to_have_text(acct["account"]["id"])
    hit.click()
    view = page.get_by_test_id("account-view")
    expect(view).to_contain_text(email)
    expect(page.get_by_test_id("account-cluster")).to_contain_text(big["id"])
    _assert_no_personal_urls(open_page, email)
    # from its cluster's graph, a node click opens that account
    page.get_by_test_id("account-cluster").get_by_role("link").click()
    node = page.get_by_test_id("graph-node").first
    expect(node).to_be_attached()
    target = node.get_attribute("data-account-id")
    node.dispatch_event("click")
    expect(page.get_by_test_id("account-view")).to_contain_text(target)
    expect(page).to_have_url(re.compile(rf"#account/{target}"))


def test_viewer_reads_without_personal_values_or_actions(open_page: Any, served: Served) -> None:
    big = _biggest_flagged(served)
    page = open_page("viewer", hash=f"#cluster/{big['id']}")
    expect = _expect(page)
    expect(page.get_by_test_id("cluster-title")).to_have_text(big["id"])
    expect(page.get_by_test_id("decision-save")).to_be_disabled()
    expect(page.get_by_test_id("row-select").first).to_be_hidden()  # no bulk status either
    expect(page.get_by_test_id("review-status")).to_contain_text("viewer role")
    assert page.get_by_test_id("export-link").count() == 0
    expect(page.get_by_test_id("evidence-payment")).to_contain_text("hidden for your role")
    page.keyboard.press("c")  # status keys do nothing for a viewer
    page.get_by_test_id("search-input").fill("someone@example.com")
    page.get_by_test_id("search-input").press("Enter")
    expect(page.get_by_test_id("search-results")).to_contain_text("needs the reviewer role")
    page.get_by_test_id("search-input").fill(big["id"][:7])
    page.get_by_test_id("search-input").press("Enter")
    page.locator(f"[data-testid=search-hit]:text('{big['id']}')").click()
    node = page.get_by_test_id("graph-node")
    expect(node.first).to_be_attached()
    node.first.dispatch_event("click")
    expect(page.get_by_test_id("account-view")).to_contain_text("hidden for your role")
    status = httpx.get(
        f"{served.url}/v1/clusters/{big['id']}",
        headers={"Authorization": f"Bearer {served.keys['viewer']}"},
    ).json()["status"]
    assert status != "confirmed"


def _no_horizontal_overflow(page: Any) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width <= inner, f"horizontal overflow: {width} > {inner}"


@pytest.mark.parametrize("width", WIDTHS)
def test_screens_fit_at_each_width(open_page: Any, served: Served, shots: Path, width: int) -> None:
    big = _biggest_flagged(served)
    page = open_page("reviewer", width=width, height=900 if width > 400 else 844)
    expect = _expect(page)
    expect(_rows(page).first).to_be_visible()
    expect(page.get_by_test_id("search-input")).to_be_visible()
    expect(page.get_by_test_id("key-input")).to_be_visible()
    expect(page.locator("#bulk")).to_be_hidden()  # nothing ticked
    header = page.locator("header").bounding_box()
    assert header and header["height"] <= (100 if width < 700 else 50), "the header wraps"
    _no_horizontal_overflow(page)
    page.screenshot(path=str(shots / f"queue-{width}.png"))
    page.locator(f"[data-testid=cluster-row][data-cluster-id={big['id']}]").click()
    expect(page.get_by_test_id("cluster-title")).to_be_visible()
    expect(page.get_by_test_id("graph-node").first).to_be_attached()
    for testid in ("decision-status", "decision-save", "cluster-graph"):
        page.get_by_test_id(testid).scroll_into_view_if_needed()
        expect(page.get_by_test_id(testid)).to_be_in_viewport()
    if width < 700:  # on a phone the cluster takes the screen; the queue is one tap away
        expect(page.locator("#queue")).to_be_hidden()
    else:
        expect(_rows(page).first).to_be_visible()
    _no_horizontal_overflow(page)
    page.locator("#detail").evaluate("d => d.scrollTo(0, 0)")
    page.evaluate("scrollTo(0, 0)")
    page.screenshot(path=str(shots / f"cluster-{width}.png"))
    page.get_by_test_id("cluster-graph").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / f"graph-{width}.png"))
    page.get_by_test_id("graph-node").first.dispatch_event("click")
    expect(page.get_by_test_id("account-view")).to_be_visible()
    _no_horizontal_overflow(page)
    page.screenshot(path=str(shots / f"account-{width}.png"))
    if width < 700:
        page.locator("[data-testid=account-view] .back").click()
        expect(_rows(page).first).to_be_visible()

"""What the web layer serves besides the API: the console, the API docs, export allowance."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import app.web
from app.core.context import Context
from app.web.app import create_app


def test_console_is_served_and_loads_nothing_from_other_hosts(ctx: Context) -> None:
    r = TestClient(create_app(ctx)).get("/console")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", r.text), "no other host"


def test_console_assets_are_its_own_and_run_under_a_strict_policy(ctx: Context) -> None:
    client = TestClient(create_app(ctx))
    page = client.get("/console").text
    refs = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page)
    assert sorted(refs) == ["/console/console.css", "/console/console.js", "/console/icon.svg"]
    assert not re.search(r"<script>|<style|\sstyle=|\son[a-z]+=", page), "no inline code"
    for ref, media in zip(
        sorted(refs), ("text/css", "text/javascript", "image/svg+xml"), strict=True
    ):
        r = client.get(ref)
        assert r.status_code == 200 and r.headers["content-type"].startswith(media), ref
        csp = r.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "unsafe-inline" not in csp
        text = r.text.replace('xmlns="http://www.w3.org/2000/svg"', "")  # a name, not a host
        assert not re.search(r"https?://", text), f"{ref} names another host"
    script = client.get("/console/console.js").text
    for testid in (
        "key-input",
        "cluster-row",
        "data-cluster-id",
        "cluster-graph",
        "graph-node",
        "decision-status",
        "decision-note",
        "decision-save",
        "review-status",
        "export-link",
        "account-view",
    ):  # the stable hooks issue #14 names (search-input is in the page)
        assert testid in script + page, testid
    assert 'data-testid="search-input"' in page


def test_the_console_words_every_score_feature() -> None:
    """The score breakdown showed raw names ("raises: coordinated_days") for features added
    to the score after the console's sentences were written."""
    from graph.scoring import FEATURES

    script = (Path(app.web.__file__).parent / "console" / "console.js").read_text()
    block = script[
        script.index("const DRIVERS = {") : script.index("};", script.index("const DRIVERS"))
    ]
    worded = set(re.findall(r"^\s+(\w+): \(", block, flags=re.M))
    assert set(FEATURES) - worded == set()


def test_me_names_the_key_and_its_role(api: dict[str, TestClient]) -> None:
    for role in ("viewer", "reviewer", "admin"):
        r = api[role].get("/v1/me")
        assert r.status_code == 200 and r.json()["role"] == role and r.json()["name"] == role
    r = api["anonymous"].get("/v1/me")
    assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"


def test_api_docs_load_nothing_from_other_hosts(ctx: Context) -> None:
    client = TestClient(create_app(ctx))
    page = client.get("/docs")
    assert page.status_code == 200
    refs = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", page.text)
    assert refs and all(ref.startswith("/") for ref in refs), refs
    for ref in refs:
        assert client.get(ref).status_code == 200, ref
    assert client.get("/redoc").status_code == 404


def test_the_export_allowance_is_the_documented_six_a_minute(ctx: Context) -> None:
    from app.core.errors import TooManyRequests

    limiter = create_app(ctx).state.export_limiter
    for _ in range(ctx.settings.export_rate_per_minute):
        limiter.check("key")  # all six at once
    with pytest.raises(TooManyRequests):
        limiter.check("key")

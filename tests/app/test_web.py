"""What the web layer serves besides the API: the console, the API docs, export allowance."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.core.context import Context
from app.web.app import create_app


def test_console_is_served_and_loads_nothing_from_other_hosts(ctx: Context) -> None:
    r = TestClient(create_app(ctx)).get("/console")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", r.text), "no other host"


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

"""Unexpected errors: the client gets a problem document, logs and messages name the error
but never the data it failed on (a failing row's names, emails, prompts)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from app.cli import main
from app.core.context import Context
from app.core.errors import describe
from app.models import Account
from app.web.app import create_app

PERSONAL = "Fine Person"


def _failing_insert(ctx: Context) -> None:
    """An insert that violates a NOT NULL column (ingested_at) on both databases; PostgreSQL's
    error DETAIL quotes the whole failing row."""
    row = {"id": "acct_x", "created_at": datetime(2026, 1, 1, tzinfo=UTC), "name": PERSONAL}
    with ctx.sessions() as s, s.begin():
        s.execute(insert(Account).values(**row))


def test_a_database_error_is_described_without_its_data(ctx: Context) -> None:
    with pytest.raises(IntegrityError) as err:
        _failing_insert(ctx)
    said = describe(err.value)
    assert PERSONAL not in said and "INSERT INTO accounts" in said
    if ctx.engine.dialect.name == "sqlite":  # PostgreSQL's own DETAIL is the server's text
        assert PERSONAL not in str(err.value), "parameters are hidden"


def test_an_unexpected_error_answers_a_problem_and_logs_no_data(
    ctx: Context, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(ctx)
    app.add_api_route("/boom", lambda: _failing_insert(ctx))
    access = logging.getLogger("hydrascope.access")
    access.addHandler(caplog.handler)  # the service's loggers do not propagate to the root
    caplog.set_level(logging.INFO)
    r = TestClient(app, raise_server_exceptions=False).get(
        "/boom", headers={"X-Request-ID": "req-42"}
    )
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 500 and body["request_id"] == "req-42"
    access.removeHandler(caplog.handler)
    logged = [str(getattr(rec, "fields", "")) + rec.getMessage() for rec in caplog.records]
    assert PERSONAL not in r.text and not any(PERSONAL in line for line in logged), logged
    assert any("IntegrityError" in line for line in logged)


def test_a_mistyped_database_url_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.config import get_settings

    monkeypatch.setenv("HYDRASCOPE_DATABASE_URL", "postgress://me@127.0.0.1/db")
    monkeypatch.setenv("HYDRASCOPE_DEV_MODE", "1")
    get_settings.cache_clear()
    try:
        r = CliRunner().invoke(main, ["stats"])
    finally:
        get_settings.cache_clear()
    assert r.exit_code == 1
    assert r.output.count("\n") == 1 and "HYDRASCOPE_DATABASE_URL" in r.output

"""API keys: shown once, stored as a digest, revocable, every change audited."""

from __future__ import annotations

import time

from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.auth.apikeys import authenticate
from app.cli import main
from app.core.context import Context
from app.models import AuditEntry
from app.web.app import create_app
from tests.helpers import dump_tables


def test_create_list_revoke_from_the_command_line(cli_env: dict[str, str], ctx: Context) -> None:
    r = CliRunner().invoke(main, ["apikey", "create", "--role", "reviewer", "--name", "alice"])
    assert r.exit_code == 0, r.output
    key = r.stdout.strip()
    assert key.startswith("hs_") and "\n" not in key  # alone on stdout
    assert key not in repr(dump_tables(ctx.engine))  # only its digest is stored
    with ctx.sessions() as s:
        who = authenticate(s, key)
    assert who is not None and who.role == "reviewer" and who.name == "alice"
    listing = CliRunner().invoke(main, ["apikey", "list"]).stdout
    assert who.key_id in listing and "active" in listing and key not in listing
    r = CliRunner().invoke(main, ["apikey", "revoke", who.key_id])
    assert r.exit_code == 0
    with ctx.sessions() as s:
        assert authenticate(s, key) is None
        actions = [a.action for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == ["apikey.create", "apikey.revoke"]
    r = CliRunner().invoke(main, ["apikey", "revoke", "nope"])
    assert r.exit_code != 0 and "no API key" in r.output


def test_revoked_key_is_refused_over_http(cli_env: dict[str, str], ctx: Context) -> None:
    key = (
        CliRunner()
        .invoke(main, ["apikey", "create", "--role", "admin", "--name", "etl"])
        .stdout.strip()
    )
    # servers trust a checked key for HYDRASCOPE_API_KEY_CACHE_SECONDS: revocation lands
    # within that time in every process
    ctx.settings = ctx.settings.model_copy(update={"api_key_cache_seconds": 0.2})
    c = TestClient(create_app(ctx), headers={"Authorization": f"Bearer {key}"})
    assert c.post("/v1/ingest", content=b"").status_code == 200
    key_id = key.split("_")[1]
    CliRunner().invoke(main, ["apikey", "revoke", key_id])
    time.sleep(0.3)
    assert c.post("/v1/ingest", content=b"").status_code == 401

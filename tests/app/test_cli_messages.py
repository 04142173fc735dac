"""The command line says what it is doing: where it serves, how far a long job got."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from app import cli
from tests.helpers import SAMPLE


def test_serve_says_where(cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: seen.update(kw))
    r = CliRunner().invoke(cli.main, ["serve", "--port", "8123"])
    assert r.exit_code == 0, r.output
    assert "http://127.0.0.1:8123" in r.output and seen["port"] == 8123


def test_a_piped_ingest_reports_progress(
    cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "PROGRESS_EVERY_SECONDS", 0.0)
    r = CliRunner().invoke(cli.main, ["ingest", "-"], input=SAMPLE.read_bytes())
    assert r.exit_code == 0, r.output
    assert "-: 7 lines so far" in r.output


def test_generate_says_what_it_is_doing(tmp_path: Any) -> None:
    r = CliRunner().invoke(cli.main, ["generate", "--out", str(tmp_path), "--benign", "50"])
    assert r.exit_code == 0, r.output
    assert r.output.startswith("generating 50 ordinary accounts") and "writing" in r.output

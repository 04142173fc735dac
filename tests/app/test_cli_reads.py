"""Read-only commands commit nothing: the data version (which every server's response cache
is keyed on) stays where it was, so a dashboard's `hydrascope stats` empties no cache."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from app.cli import main
from app.core.changes import data_version
from app.core.context import Context


def _version(ctx: Context) -> int:
    with ctx.sessions() as s:
        return data_version(s)


def test_reads_and_previews_leave_the_data_version(
    ctx: Context, api: object, cli_env: dict[str, str], tmp_path: Path
) -> None:
    truth = tmp_path / "truth.csv"
    truth.write_text("account_id,label\nacct_0000001,benign\n")
    before = _version(ctx)
    for args in (
        ["stats", "--json"],
        ["clusters", "--format", "jsonl"],
        ["evaluate", "--truth", str(truth)],
        ["purge", "--older-than", "1", "--dry-run"],
    ):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 0, (args, r.output)
        assert _version(ctx) == before, args
    r = CliRunner().invoke(main, ["purge", "--older-than", "3650", "--yes"])
    assert r.exit_code == 0 and _version(ctx) > before, "a real purge is a new version"

"""The ingest, stats and schema commands as a user runs them."""

from __future__ import annotations

import gzip
import time
import zlib
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from app.cli import main
from app.core.config import get_settings
from tests.helpers import SAMPLE, account, ndjson, request


def test_ingest_files_gz_and_stdin_then_stats(cli_env: dict[str, str], tmp_path: Path) -> None:
    gz = tmp_path / "more.ndjson.gz"
    gz.write_bytes(gzip.compress(ndjson(account("z"), request("acct_z", id="rz"))))
    r = CliRunner().invoke(main, ["ingest", str(SAMPLE), str(gz)])
    assert r.exit_code == 0, r.output
    assert "accepted 2 accounts, 2 payment methods, 3 requests" in r.output
    r = CliRunner().invoke(main, ["ingest", "-"], input=ndjson(request("acct_z", id="r-stdin")))
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["stats", "--json"])
    stats = orjson.loads(r.stdout)
    assert stats["accounts"] == 3 and stats["payment_methods"] == 2 and stats["requests"] == 5
    assert stats["clusters"] == 0 and stats["flagged_clusters"] == 0


def test_errors_file_lists_every_rejection(cli_env: dict[str, str], tmp_path: Path) -> None:
    bad = [b"{broken"] * 30
    src = tmp_path / "bad.ndjson"
    src.write_bytes(ndjson(account(1), *bad))
    errors = tmp_path / "errors.jsonl"
    r = CliRunner().invoke(main, ["ingest", str(src), "--errors", str(errors)])
    assert r.exit_code == 0
    assert "rejected 30" in r.output and "and 10 more" in r.output
    lines = [orjson.loads(x) for x in errors.read_bytes().splitlines()]
    assert len(lines) == 30 and lines[0]["line"] == 2 and lines[0]["field"] == "(line)"
    assert lines[0]["source"] == str(src)


def test_strict_exit_code(cli_env: dict[str, str], tmp_path: Path) -> None:
    src = tmp_path / "x.ndjson"
    src.write_bytes(ndjson(account(1), b"{bad"))
    r = CliRunner().invoke(main, ["ingest", "--strict", str(src)])
    assert r.exit_code == 1 and "nothing from it was stored" in r.output


def test_missing_file_is_named(cli_env: dict[str, str]) -> None:
    r = CliRunner().invoke(main, ["ingest", "/nonexistent/file.ndjson"])
    assert r.exit_code != 0 and "/nonexistent/file.ndjson" in r.output


def test_schema_command_publishes_json_schema(cli_env: dict[str, str]) -> None:
    r = CliRunner().invoke(main, ["schema"])
    schema = orjson.loads(r.stdout)
    names = set(schema["$defs"])
    assert {"AccountRecord", "PaymentMethodRecord", "RequestRecord"} <= names
    assert schema["$defs"]["RequestRecord"]["additionalProperties"] is False


def _accounts_stored() -> int:
    r = CliRunner().invoke(main, ["stats", "--json"])
    return int(orjson.loads(r.stdout)["accounts"])


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_broken_gzip_file_keeps_what_came_before_and_says_so(
    cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: str
) -> None:
    """A cut-off .gz used to end in "Aborted!" (click's answer to EOFError) naming neither
    the file nor the problem, and corrupt data in a traceback; the transaction under way was
    rolled back with it."""
    monkeypatch.setenv("HYDRASCOPE_INGEST_BATCH_LINES", "1000")
    get_settings.cache_clear()
    whole = gzip.compress(ndjson(*[account(i) for i in range(6000)]))
    cut = tmp_path / "cut.ndjson.gz"
    cut.write_bytes(whole[: len(whole) * 3 // 4])
    r = CliRunner().invoke(main, ["ingest", "--workers", workers, str(cut)])
    assert r.exit_code == 1 and f"error: {cut}: the gzip input ends before" in r.output, r.output
    assert "Traceback" not in r.output
    # every whole line before the cut is stored (the batches in flight too), none after it
    before_cut = zlib.decompressobj(wbits=31).decompress(cut.read_bytes()).count(b"\n")
    assert 1000 < before_cut < 6000 and _accounts_stored() == before_cut
    junk = tmp_path / "junk.ndjson.gz"
    junk.write_bytes(whole + b"trailing junk")
    r = CliRunner().invoke(main, ["ingest", "--workers", workers, "--json", str(junk)])
    assert r.exit_code == 1 and "is corrupt" in orjson.loads(r.stdout)["input_error"]
    assert _accounts_stored() == 6000


def test_strict_stores_nothing_from_a_broken_gzip_file(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    whole = gzip.compress(ndjson(*[account(i) for i in range(3000)]))
    cut = tmp_path / "cut.ndjson.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    r = CliRunner().invoke(main, ["ingest", "--strict", str(cut)])
    assert r.exit_code == 1 and "ends before" in r.output
    assert "nothing from it was stored (strict)" in r.output and "were ingested" not in r.output
    assert _accounts_stored() == 0


def test_the_summary_counts_in_words(cli_env: dict[str, str], tmp_path: Path) -> None:
    src = tmp_path / "one.ndjson"
    src.write_bytes(ndjson(account(1), request("acct_1", id="r1")))
    r = CliRunner().invoke(main, ["ingest", str(src)])
    assert "read 2 records; accepted 1 account, 0 payment methods, 1 request " in r.output


def test_workers_started_first_serve_the_first_file_and_none_are_left(
    cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the CLI starts its workers before its own imports (app.ingest.workers); the first file
    # uses them, a later file its own pool, and an input that cannot be opened leaves no
    # process running
    import multiprocessing

    from app.ingest import workers

    started: list[object] = []
    real_start = workers.start

    def spy(n: int) -> object:
        pool = real_start(n)
        started.append(pool)
        return pool

    monkeypatch.setattr(workers, "start", spy)
    a, b = tmp_path / "a.ndjson", tmp_path / "b.ndjson"
    a.write_bytes(ndjson(*[request(f"acct_{i}", id=f"a{i}") for i in range(50)]))
    b.write_bytes(ndjson(*[request(f"acct_{i}", id=f"b{i}") for i in range(50)]))
    r = CliRunner().invoke(main, ["ingest", "--workers", "2", "--json", str(a), str(b)])
    assert r.exit_code == 0, r.output
    assert [s["accepted"]["request"] for s in orjson.loads(r.stdout)] == [50, 50]
    assert len(started) == 2  # one started first, one for the second file
    r = CliRunner().invoke(main, ["ingest", "--workers", "2", "/nonexistent/file.ndjson"])
    assert r.exit_code != 0 and len(started) == 3
    deadline = time.monotonic() + 20  # the unused workers finish starting, then exit
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert multiprocessing.active_children() == []

"""Ingest throughput and peak memory into SQLite and PostgreSQL, against orjson parse-only.

    python benchmarks/ingest.py [--accounts 50000] [--requests 2000000] [--sqlite-runs 3]
        [--worlds classic realistic] [--pg URL | --pg none]

For each world (``classic``: benign prompts from a small template pool; ``realistic``: most
benign prompts one-off prose, see benchmarks._world.WORLDS) generates a contract NDJSON file
(accounts, payment methods, requests with prompt texts), then times, in the same run: parsing
every line with orjson (the reference), a plain ``json.loads`` of every line (CPU time, the
reference detection is held to), and `hydrascope ingest` into fresh SQLite files
(``--sqlite-runs`` times: the median counts, the peak is the highest; the first run's database
size is reported against the file's) and a fresh PostgreSQL database, each measured as a whole
process tree (parent + parse workers). Replaces its section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import _world as bench  # noqa: E402
from benchmarks._measure import run_measured  # noqa: E402
from worlds.world import WorldParams, generate_world  # noqa: E402


def world_params(world: str, accounts: int, requests: int | None) -> WorldParams:
    """The benchmark's world of ``accounts`` accounts; ``requests`` sets the classic world's
    volume (the realistic world has its own, ~40 a benign account over 28 days)."""
    if world == "realistic":
        return bench.realistic_world(accounts, seed=42)
    hydra = 952
    mean = (requests or 40 * accounts) / accounts
    return WorldParams(n_benign=accounts - hydra, mean_requests=mean * 0.8, seed=42)


def parse_only(path: Path) -> float:
    t0 = time.perf_counter()
    with path.open("rb") as fh:
        for line in fh:
            orjson.loads(line)
    return time.perf_counter() - t0


def ingest(url: str, path: Path, workers: int) -> tuple[float, int, str]:
    env = dict(
        os.environ,
        HYDRASCOPE_DATABASE_URL=url,
        HYDRASCOPE_SECRET_KEY=bench.SECRET,
        HYDRASCOPE_DEV_MODE="0",
    )
    exe = str(Path(sys.executable).with_name("hydrascope"))
    up = run_measured([exe, "db", "upgrade"], env=env)
    assert up.returncode == 0, up.stderr
    m = run_measured([exe, "ingest", "--workers", str(workers), "--json", str(path)], env=env)
    assert m.returncode == 0, m.stderr
    summary = orjson.loads(m.stdout)
    return m.seconds, m.peak_bytes, f"{summary['accepted']}"


def pg_database(url: str) -> tuple[str, str]:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from app.core.db import make_engine

    name = f"hs_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False), name


def drop_pg(url: str, name: str) -> None:
    from sqlalchemy import text

    from app.core.db import make_engine

    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@dataclass
class WorldRun:
    world: str
    stats: bench.FileStats
    parse: tuple[float, float]  # orjson parse-only wall time, before and after the ingests
    json_cpu: float
    rows: list[tuple[str, float, int, int]]  # label, seconds, peak bytes, database bytes


def measure_world(world: str, args: argparse.Namespace, tmp: Path) -> WorldRun:
    data = tmp / f"{world}.ndjson"
    t0 = time.perf_counter()
    stats = bench.write_ndjson(
        generate_world(world_params(world, args.accounts, args.requests)), data
    )
    print(
        f"{bench.describe_file(world, stats)}; generated in {time.perf_counter() - t0:.0f} s",
        file=sys.stderr,
    )
    ref_first = parse_only(data)
    json_cpu = bench.json_parse_cpu(data)
    print(f"orjson parse only: {ref_first:.1f} s; json CPU {json_cpu:.1f} s", file=sys.stderr)
    rows = []
    # these machines' speed swings by 20% within minutes: several runs, the median counts
    runs = []
    for i in range(args.sqlite_runs):
        db = tmp / f"bench{i}.db"
        secs, peak, _ = ingest(f"sqlite:///{db}", data, args.workers)
        runs.append((secs, peak, db.stat().st_size))
        db.unlink()
        print(f"sqlite run {i + 1}: {secs:.1f} s, peak {peak / 2**20:.0f} MiB", file=sys.stderr)
    sqlite_s = statistics.median(r[0] for r in runs)
    each = " / ".join(f"{r[0]:.1f}" for r in runs)
    label = f"SQLite (median of {len(runs)} runs: {each} s)" if len(runs) > 1 else "SQLite"
    rows.append((label, sqlite_s, max(r[1] for r in runs), runs[0][2]))
    if args.pg != "none":
        try:
            url, name = pg_database(args.pg)
        except Exception as exc:  # no server: say so in the results
            print(f"PostgreSQL unavailable: {exc}", file=sys.stderr)
        else:
            try:
                pg_s, pg_mem, acc = ingest(url, data, args.workers)
                rows.append(("PostgreSQL", pg_s, pg_mem, 0))
                print(
                    f"postgres: {pg_s:.1f} s, peak {pg_mem / 2**20:.0f} MiB {acc}", file=sys.stderr
                )
            finally:
                drop_pg(args.pg, name)
    # the machine's speed drifts within minutes: parse again after the ingests and
    # divide by the faster parse (the harder bar)
    ref_last = parse_only(data)
    print(f"orjson parse only, again: {ref_last:.1f} s", file=sys.stderr)
    data.unlink()
    return WorldRun(world, stats, (ref_first, ref_last), json_cpu, rows)


def report(runs: list[WorldRun], workers: int) -> str:
    table = [
        f"### Ingest ({bench.today()}, commit {bench.git_rev()})",
        "",
        f"Machine: {bench.machine()}. `hydrascope ingest --workers {workers}`, whole process tree "
        "measured (parent + workers). Files: "
        + "; ".join(bench.describe_file(r.world, r.stats) for r in runs)
        + ". The orjson parse-only reference is timed before and after each world's ingests; "
        "ratios use the faster. *json CPU*: CPU time of a plain `json.loads` of every line "
        "(the issue's reference for detection). *DB / NDJSON*: size of the SQLite file after "
        "the ingest against the input's.",
        "",
        "| world | target | wall time | requests/s | all records/s | ingest / parse-only "
        "| peak memory | DB / NDJSON |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        req = r.stats.counts["request"]
        lines = sum(r.stats.counts.values())
        ref = min(r.parse)
        table.append(
            f"| {r.world} | orjson parse only (reference; json CPU {r.json_cpu:.1f} s) "
            f"| {ref:.1f} s | {req / ref:,.0f} | {lines / ref:,.0f} | 1.0 | - | - |"
        )
        for name_, secs, mem, size in r.rows:
            ratio = f"{size / r.stats.bytes:.2f}" if size else "-"
            table.append(
                f"| {r.world} | {name_} | {secs:.1f} s | {req / secs:,.0f} | {lines / secs:,.0f} "
                f"| {secs / ref:.1f} | {mem / 2**20:,.0f} MiB | {ratio} |"
            )
    return "\n".join(table) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=50_000)
    ap.add_argument(
        "--requests", type=int, default=None, help="classic world (default 40 per account)"
    )
    ap.add_argument("--worlds", nargs="+", choices=bench.WORLDS, default=list(bench.WORLDS))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sqlite-runs", type=int, default=3, help="SQLite ingests (median counts)")
    ap.add_argument(
        "--pg",
        default=os.environ.get(
            "HYDRASCOPE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
        help="PostgreSQL server URL, or 'none' to skip PostgreSQL",
    )
    ap.add_argument("--section", default="ingest", help="docs/performance.md section to replace")
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs alone")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [measure_world(w, args, Path(tmp)) for w in args.worlds]
    text_ = report(runs, args.workers)
    print(text_)
    if not args.no_write:
        from benchmarks._report import append_section

        append_section(args.section, text_)


if __name__ == "__main__":
    main()

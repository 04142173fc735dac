"""Ingest throughput and peak memory into SQLite and PostgreSQL, against orjson parse-only.

    python benchmarks/ingest.py [--accounts 50000] [--requests 2000000] [--sqlite-runs 3] [--pg URL]

Generates a contract NDJSON file (accounts, payment methods, requests with prompt texts),
then times, in the same run: parsing every line with orjson (the reference), and
`hydrascope ingest` into fresh SQLite files (``--sqlite-runs`` times: the median counts, the
peak is the highest) and a fresh PostgreSQL database, each measured as a whole process tree
(parent + parse workers). Appends the figures to docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._measure import run_measured  # noqa: E402
from benchmarks._world import SECRET, git_rev, machine, today  # noqa: E402
from worlds.world import WorldParams, generate_world  # noqa: E402


def make_file(path: Path, accounts: int, requests: int) -> dict[str, int]:
    hydra = 952
    mean = requests / accounts
    world = generate_world(
        WorldParams(n_benign=accounts - hydra, mean_requests=mean * 0.8, seed=42)
    )
    counts = {"account": 0, "payment_method": 0, "request": 0}
    with path.open("wb") as fh:
        for rec in world.records():
            fh.write(orjson.dumps(rec) + b"\n")
            counts[rec["type"]] += 1
    return counts


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
        HYDRASCOPE_SECRET_KEY=SECRET,
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=50_000)
    ap.add_argument("--requests", type=int, default=2_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sqlite-runs", type=int, default=3, help="SQLite ingests (median counts)")
    ap.add_argument(
        "--pg",
        default=os.environ.get(
            "HYDRASCOPE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs alone")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "bench.ndjson"
        t0 = time.perf_counter()
        counts = make_file(data, args.accounts, args.requests)
        gen_s = time.perf_counter() - t0
        lines = sum(counts.values())
        size_mb = data.stat().st_size / 1e6
        print(f"file: {counts} ({size_mb:.0f} MB) generated in {gen_s:.0f} s", file=sys.stderr)
        ref_first = parse_only(data)
        print(f"orjson parse only: {ref_first:.1f} s", file=sys.stderr)
        rows = []
        # these machines' speed swings by 20% within minutes: several runs, the median counts
        runs = []
        for i in range(args.sqlite_runs):
            db = Path(tmp) / f"bench{i}.db"
            runs.append(ingest(f"sqlite:///{db}", data, args.workers))
            db.unlink()
            print(
                f"sqlite run {i + 1}: {runs[-1][0]:.1f} s, peak {runs[-1][1] / 2**20:.0f} MiB",
                file=sys.stderr,
            )
        sqlite_s = statistics.median(r[0] for r in runs)
        sqlite_mem = max(r[1] for r in runs)
        each = " / ".join(f"{r[0]:.1f}" for r in runs)
        label = f"SQLite (median of {len(runs)} runs: {each} s)" if len(runs) > 1 else "SQLite"
        rows.append((label, sqlite_s, sqlite_mem, runs[0][2]))
        try:
            url, name = pg_database(args.pg)
        except Exception as exc:  # no server: say so in the results
            print(f"PostgreSQL unavailable: {exc}", file=sys.stderr)
        else:
            try:
                pg_s, pg_mem, acc = ingest(url, data, args.workers)
                rows.append(("PostgreSQL", pg_s, pg_mem, acc))
                print(
                    f"postgres: {pg_s:.1f} s, peak {pg_mem / 2**20:.0f} MiB {acc}", file=sys.stderr
                )
            finally:
                drop_pg(args.pg, name)
        # the machine's speed drifts within minutes: parse again after the ingests and
        # divide by the faster parse (the harder bar)
        ref_last = parse_only(data)
        ref = min(ref_first, ref_last)
        print(f"orjson parse only, again: {ref_last:.1f} s", file=sys.stderr)
    table = [
        f"### Ingest ({today()}, commit {git_rev()})",
        "",
        f"Machine: {machine()}. File: {counts['account']:,} accounts, "
        f"{counts['payment_method']:,} payment methods, {counts['request']:,} requests with prompt "
        f"texts ({size_mb:.0f} MB NDJSON). `hydrascope ingest --workers {args.workers}`, whole process "
        "tree measured (parent + workers). The parse-only reference is timed before and "
        f"after the ingests ({ref_first:.1f} s, {ref_last:.1f} s); ratios use the faster.",
        "",
        "| target | wall time | requests/s | all records/s | ingest / parse-only | peak memory |",
        "|---|---|---|---|---|---|",
        f"| orjson parse only (reference) | {ref:.1f} s | {counts['request'] / ref:,.0f} | "
        f"{lines / ref:,.0f} | 1.0 | - |",
    ]
    for name_, secs, mem, _ in rows:
        table.append(
            f"| {name_} | {secs:.1f} s | {counts['request'] / secs:,.0f} | {lines / secs:,.0f} | "
            f"{secs / ref:.1f} | {mem / 2**20:,.0f} MiB |"
        )
    text_ = "\n".join(table) + "\n"
    print(text_)
    if not args.no_write:
        from benchmarks._report import append_section

        append_section("ingest", text_)


if __name__ == "__main__":
    main()

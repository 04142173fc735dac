"""Server memory under sustained load: does it level off?

A detected world is served by `hydrascope serve` (one worker, response cache at its default
budget) while a separate load-generator process sends requests over loopback for a bounded
time: many distinct URLs (filters, pages, clusters, members, accounts), the way dashboards and
analysts spread over the API, so the response cache keeps filling and evicting. The server's
resident memory is sampled every two seconds.

    python benchmarks/memory.py [--seconds 60] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._measure import _tree_rss
from benchmarks._world import fresh_sqlite, git_rev, machine, today

PORT = 18_931


def _world(tmp: Path) -> tuple[str, str, list[str], list[str]]:

    from app.auth.apikeys import create_key
    from app.detection import service
    from app.ingest.service import ingest_world
    from graph import DetectParams
    from worlds.world import WorldParams, generate_world, scaled_networks

    ctx = fresh_sqlite(tmp)
    world = generate_world(WorldParams(n_benign=3000, seed=11, networks=scaled_networks(1, 0.5)))
    ingest_world(ctx, world)
    service.detect(ctx, DetectParams(seed=0))
    with ctx.sessions() as s, s.begin():
        _, key = create_key(s, name="memory-bench", role="reviewer", actor="bench")
        clusters = [
            r[0] for r in s.execute(__import__("sqlalchemy").text("SELECT id FROM clusters"))
        ]
        accounts = [
            r[0] for r in s.execute(__import__("sqlalchemy").text("SELECT id FROM accounts"))
        ]
    url = ctx.settings.database_url
    ctx.close()
    return url, key, clusters, accounts


def _paths(clusters: list[str], accounts: list[str], n: int) -> list[str]:
    rng = random.Random(3)
    out = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.35:
            out.append(
                f"/v1/clusters?min_score={rng.random():.4f}&limit={rng.randint(1, 100)}"
                f"&sort={rng.choice(['score', 'size', 'updated'])}"
            )
        elif kind < 0.6:
            out.append(f"/v1/clusters/{rng.choice(clusters)}")
        elif kind < 0.8:
            out.append(f"/v1/clusters/{rng.choice(clusters)}/members?limit={rng.randint(1, 200)}")
        else:
            out.append(f"/v1/accounts/{rng.choice(accounts)}")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--paths", type=int, default=40_000)
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        url, key, clusters, accounts = _world(tmp)
        paths_file = tmp / "paths.txt"
        paths_file.write_text("\n".join(_paths(clusters, accounts, a.paths)))
        env = {
            **os.environ,
            "HYDRASCOPE_DATABASE_URL": url,
            "HYDRASCOPE_SECRET_KEY": "memory-benchmark-secret-0123456789abcdef",
            "HYDRASCOPE_RATE_LIMIT_PER_MINUTE": "0",
            "HYDRASCOPE_LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(PORT)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(4)
        load = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).with_name("_loadgen.py")),
                "--port",
                str(PORT),
                "--key",
                key,
                "--paths",
                str(paths_file),
                "--conns",
                "8",
                "--seconds",
                str(a.seconds),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        samples: list[tuple[float, int]] = []
        start = time.monotonic()
        while load.poll() is None:
            samples.append((time.monotonic() - start, _tree_rss(server.pid)))
            time.sleep(2)
        result = load.communicate()[0].strip()
        server.terminate()
        server.wait(timeout=10)
    mib = [(t, r / 2**20) for t, r in samples]
    half = [r for t, r in mib if t >= a.seconds / 2]
    first_half_peak = max(r for t, r in mib if t < a.seconds / 2)
    growth = (max(half) - first_half_peak) / first_half_peak if half else 0.0
    rows = "\n".join(f"| {t:.0f} s | {r:,.0f} MiB |" for t, r in mib[:: max(1, len(mib) // 15)])
    body = (
        f"## Server memory under load\n\n"
        f"Machine: {machine()}. Date: {today()}, commit {git_rev()}. `benchmarks/memory.py`: a "
        f"detected 3,000-account world served by `hydrascope serve` (1 worker, SQLite, response "
        f"cache at its default budget), {a.paths:,} distinct URLs (list filters and pages, "
        f"cluster detail, members pages, account lookups) sent by 8 keep-alive connections for "
        f"{a.seconds:.0f} s from a separate process on loopback. Load: {result}.\n\n"
        f"Resident memory: {mib[0][1]:,.0f} MiB at start, peak {max(r for _, r in mib):,.0f} MiB; "
        f"the second half's peak is {growth:+.1%} against the first half's "
        f"({'levels off' if growth < 0.05 else 'still growing'}).\n\n"
        f"| time | RSS |\n|---|---|\n{rows}\n"
    )
    print(body)
    if not a.no_write:
        from benchmarks._report import append_section

        append_section("memory", body)


if __name__ == "__main__":
    main()

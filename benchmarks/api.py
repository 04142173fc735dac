"""API latency and throughput on PostgreSQL with 100,000 clusters, beside a trivial endpoint.

    python benchmarks/api.py [--clusters 100000] [--rate 500] [--seconds 20] [--workers 1]

Setup (not timed): a generated world (1.2 accounts per cluster asked, ordinary request
volumes) is ingested into a fresh PostgreSQL database and detected with the real pipeline;
if that yields fewer clusters than asked, real clusters are cloned under new ids (members and
edges under suffixed account ids, so each account is in one cluster per run) until there are
enough, and the report says how many. Then `hydrascope serve`'s app runs under uvicorn
in its own process, and benchmarks/_loadgen.py, another process on 127.0.0.1, drives it:

* closed loop (16 keep-alive connections, back to back) for the throughput ceiling;
* open loop at --rate requests/s, latency measured from each request's scheduled time.

Endpoints: cluster list (first page of flagged, by score), cluster detail, members page,
account lookup, each over random ids; the reference is a trivial FastAPI endpoint served by
the same uvicorn settings in the same run. Before each cached measurement every path is requested
4 times (the steady state of pages read again); detail and account lookup run a second time
on a server with the response cache off (every answer rendered: a first read). Targets: detail and account lookup p99 < 25 ms at
500 requests/s; every endpoint's throughput at least half the trivial one's.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import orjson
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.auth.apikeys import create_key  # noqa: E402
from app.core.config import Settings  # noqa: E402
from app.core.context import Context  # noqa: E402
from app.core.db import make_engine, upgrade  # noqa: E402
from app.detection import service  # noqa: E402
from app.ingest.service import ingest_world  # noqa: E402
from app.models import (  # noqa: E402
    Account,
    Cluster,
    ClusterEdge,
    ClusterMember,
    ClusterSnapshot,
)
from benchmarks._report import append_section  # noqa: E402
from benchmarks._world import SECRET, git_rev, machine, today  # noqa: E402
from graph import DetectParams  # noqa: E402
from worlds.world import WorldParams, generate_world, scaled_networks  # noqa: E402

DB = "hs_bench_api"
PY = sys.executable


def existing_database(admin_url: str) -> str | None:
    """The benchmark database left by an earlier --keep run, if it exists."""
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        found = c.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": DB})
    admin.dispose()
    return (
        make_url(admin_url).set(database=DB).render_as_string(hide_password=False)
        if found
        else None
    )


def fresh_database(admin_url: str) -> str:
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{DB}"'))
    admin.dispose()
    return make_url(admin_url).set(database=DB).render_as_string(hide_password=False)


def load(ctx: Context, target: int) -> dict[str, int]:
    n_benign = int(target * 1.2)
    copies = max(1, n_benign // 20_000)
    world = generate_world(
        WorldParams(n_benign=n_benign, seed=11, networks=scaled_networks(copies))
    )
    ingest_world(ctx, world, workers=2)
    accounts = len(world.accounts)
    del world
    out = service.detect(ctx, DetectParams(seed=0))
    run_id = out["run_id"]
    with ctx.sessions() as s, s.begin():
        have = int(s.scalar(select(func.count()).select_from(Cluster)) or 0)
        cloned = 0
        if have < target:  # clone real clusters under new ids until there are enough
            base = [dict(r._mapping) for r in s.execute(select(Cluster.__table__))]
            snaps = {
                r.cluster_id: dict(r._mapping) for r in s.execute(select(ClusterSnapshot.__table__))
            }
            mem = {}
            for r in s.execute(select(ClusterMember.__table__)):
                mem.setdefault(r.cluster_id, []).append(dict(r._mapping))
            edges = {}
            for r in s.execute(select(ClusterEdge.__table__)):
                edges.setdefault(r.cluster_id, []).append(dict(r._mapping))
            seq = int(s.scalar(select(func.max(Cluster.change_seq))) or 0)
            rows, srows, mrows, erows = [], [], [], []
            while have + cloned < target:
                b = base[cloned % len(base)]
                cid = f"{b['id']}_c{cloned}"
                seq += 1
                rows.append({**b, "id": cid, "change_seq": seq})
                srows.append({**snaps[b["id"]], "cluster_id": cid})
                # clones get their own member ids: an account sits in one cluster per run, as
                # after a real detection (account lookups are asked of real accounts only)
                tag = f"~{cloned}"
                mrows += [
                    {**m, "cluster_id": cid, "account_id": m["account_id"] + tag}
                    for m in mem.get(b["id"], [])
                ]
                erows += [
                    {
                        **e,
                        "cluster_id": cid,
                        "source": e["source"] + tag,
                        "target": e["target"] + tag,
                    }
                    for e in edges.get(b["id"], [])
                ]
                cloned += 1
            for model, data in (
                (Cluster, rows),
                (ClusterSnapshot, srows),
                (ClusterMember, mrows),
                (ClusterEdge, erows),
            ):
                for i in range(0, len(data), 5000):
                    s.execute(insert(model.__table__), data[i : i + 5000])
            s.execute(text("UPDATE change_counters SET value = :v"), {"v": seq})
    with ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("ANALYZE"))  # in a transaction block it would be rolled back
    return {"accounts": accounts, "detected": have, "cloned": cloned, "run_id": run_id}


def paths(ctx: Context, n: int = 2000) -> dict[str, list[str]]:
    rnd = random.Random(5)
    with ctx.sessions() as s:
        ids = list(s.scalars(select(Cluster.id).where(Cluster.gone.is_(False))))
        accts = list(
            s.scalars(
                select(ClusterMember.account_id)
                .join(Account, Account.id == ClusterMember.account_id)
                .distinct()
                .limit(200_000)
            )
        )
    pick = rnd.sample(ids, min(n, len(ids)))
    return {
        "cluster list": [
            "/v1/clusters?flagged=true&limit=50",
            "/v1/clusters?limit=50",
            "/v1/clusters?sort=size&limit=50",
            "/v1/clusters?min_score=0.2&limit=50",
        ],
        "cluster detail": [f"/v1/clusters/{c}" for c in pick],
        "members page": [f"/v1/clusters/{c}/members?limit=100" for c in pick],
        "account lookup": [f"/v1/accounts/{a}" for a in rnd.sample(accts, min(n, len(accts)))],
    }


def serve(app: str, port: int, env: dict[str, str], workers: int, log: Path) -> subprocess.Popen:
    cmd = [
        PY,
        "-m",
        "uvicorn",
        app,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    if app.endswith("create_app"):
        cmd.insert(4, "--factory")
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    probe = f"http://127.0.0.1:{port}/{'readyz' if 'create_app' in app else 'ping'}"
    for _ in range(300):
        try:
            urllib.request.urlopen(probe, timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"server did not start; see {log}")


def drive(port: int, key: str, path_list: list[str], tmp: Path, **mode: float) -> dict:
    f = tmp / "paths.txt"
    f.write_text("\n".join(path_list))
    args = [
        PY,
        str(ROOT / "benchmarks" / "_loadgen.py"),
        "--port",
        str(port),
        "--key",
        key,
        "--paths",
        str(f),
    ]
    for k, v in mode.items():
        args += [f"--{k}", str(v)]
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    return orjson.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--postgres",
        default=os.environ.get(
            "HYDRASCOPE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
        ),
    )
    ap.add_argument("--clusters", type=int, default=100_000)
    ap.add_argument("--rate", type=float, default=500)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help=f"serve the database {DB} a previous run left (setup takes minutes)",
    )
    ap.add_argument("--setup-only", action="store_true", help="build the database and stop")
    a = ap.parse_args()

    url = existing_database(a.postgres) if a.reuse else None
    t0 = time.perf_counter()
    if url is None:
        url = fresh_database(a.postgres)
        ctx = Context(Settings(database_url=url, secret_key=SECRET))
        upgrade(ctx.engine)
        loaded = load(ctx, a.clusters)
        with ctx.sessions() as s, s.begin():
            s.execute(text("CREATE TABLE bench_setup (facts jsonb)"))
            s.execute(
                text("INSERT INTO bench_setup VALUES (:f)"), {"f": orjson.dumps(loaded).decode()}
            )
    else:
        ctx = Context(Settings(database_url=url, secret_key=SECRET))
        with ctx.sessions() as s:
            loaded = s.scalar(text("SELECT facts FROM bench_setup"))
    with ctx.sessions() as s, s.begin():
        _, key = create_key(s, name="bench", role="reviewer", actor="bench")
    all_paths = paths(ctx)
    with ctx.sessions() as s:
        total = int(s.scalar(select(func.count()).select_from(Cluster)) or 0)
        members = int(s.scalar(select(func.count()).select_from(ClusterMember)) or 0)
    ctx.close()
    print(f"setup {time.perf_counter() - t0:.0f} s: {loaded}, clusters {total}", flush=True)
    if a.setup_only:
        return

    env = {
        **os.environ,
        "HYDRASCOPE_DATABASE_URL": url,
        "HYDRASCOPE_SECRET_KEY": SECRET,
        "HYDRASCOPE_RATE_LIMIT_PER_MINUTE": "0",
        "HYDRASCOPE_DEV_MODE": "0",
    }
    results: list[tuple[str, dict, dict]] = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)

        def reference(label: str) -> None:
            ref = serve("benchmarks._trivial_app:app", 8771, env, a.workers, tmp / "trivial.log")
            try:
                drive(8771, "", ["/ping"], tmp, seconds=3)  # warm up
                cl = drive(8771, "", ["/ping"], tmp, seconds=a.seconds / 2)
                op = drive(8771, "", ["/ping"], tmp, rate=a.rate, seconds=a.seconds)
                results.append((label, cl, op))
                print(label, cl, op, flush=True)
            finally:
                ref.terminate()
                ref.wait()

        # the machine's speed drifts within minutes: the reference is measured first and
        # last, and ratios are taken against the faster of the two (the harder bar)
        reference("trivial endpoint (reference, first)")
        srv = serve("app.web.app:create_app", 8772, env, a.workers, tmp / "api.log")
        try:
            for name, plist in all_paths.items():
                # warm-up: every path 4 times, so each worker has rendered nearly all of them
                # (connections land on either worker: a path is missed by one with p = 1/16)
                drive(8772, key, plist, tmp, sweeps=4)
                cl = drive(8772, key, plist, tmp, seconds=a.seconds / 2)
                op = drive(8772, key, plist, tmp, rate=a.rate, seconds=a.seconds)
                results.append((name, cl, op))
                print(name, cl, op, flush=True)
        finally:
            srv.terminate()
            srv.wait()
        # the same requests rendered every time: what a first visit to each page costs
        srv = serve(
            "app.web.app:create_app",
            8773,
            {**env, "HYDRASCOPE_RESPONSE_CACHE_MIB": "0"},
            a.workers,
            tmp / "api-nocache.log",
        )
        try:
            for name in ("cluster detail", "account lookup"):
                plist = all_paths[name]
                drive(8773, key, plist, tmp, seconds=3)
                cl = drive(8773, key, plist, tmp, seconds=a.seconds / 2)
                op = drive(8773, key, plist, tmp, rate=a.rate, seconds=a.seconds)
                results.append((f"{name}, response cache off", cl, op))
                print(name, "cache off", cl, op, flush=True)
        finally:
            srv.terminate()
            srv.wait()

        reference("trivial endpoint (reference, last)")

    ref_rps = max(cl["rps"] for name, cl, _ in results if name.startswith("trivial"))
    lines = [
        f"### API on PostgreSQL ({today()}, commit {git_rev()})",
        "",
        f"Machine: {machine()}. PostgreSQL on 127.0.0.1; {total:,} clusters "
        f"({loaded['detected']:,} from detecting a {loaded['accounts']:,}-account world, "
        f"{loaded['cloned']:,} cloned), {members:,} member rows. uvicorn (uvloop, httptools), "
        f"{a.workers} worker(s), JSON access log on, rate limit off; load generator "
        "(benchmarks/_loadgen.py) in its own process on the same 2 cores. Throughput: 16 "
        f"keep-alive connections back to back for {a.seconds / 2:.0f} s. Latency: open loop at "
        f"{a.rate:.0f} requests/s for {a.seconds:.0f} s, measured from each request's "
        "scheduled send time. Detail, members and account paths cycle over 2,000 ids each; "
        "a warm-up requests every path 4 times first, so the measured answers come from the "
        "response cache (valid until the next commit): the steady state of pages being read "
        "again. The rows marked 'response cache off' render every answer (3 s warm-up): the "
        "cost of a first read. The trivial reference runs first and last; 'vs trivial' "
        "divides by the faster of the two.",
        "",
        "| endpoint | throughput (req/s) | vs trivial | at rate: achieved req/s | p50 | p90 | p99 | max | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, cl, op in results:
        lines.append(
            f"| {name} | {cl['rps']:,.0f} | {cl['rps'] / ref_rps:.2f} | {op['rps']:,.0f} | "
            f"{op['p50_ms']} ms | {op['p90_ms']} ms | {op['p99_ms']} ms | {op['max_ms']} ms | "
            f"{op['errors'] + cl['errors']} |"
        )
    body = "\n".join(lines) + "\n"
    print(body)
    if not a.no_write:
        append_section("api", body)


if __name__ == "__main__":
    main()

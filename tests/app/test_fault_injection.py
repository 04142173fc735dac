"""Kill -9 at random points: ingest (parent and its workers) and detection, on both databases.

After each kill: no process of the killed command is left, no run is stuck, and running the
same command again ends with exactly the tables a clean one-shot run gives (nothing lost,
nothing doubled). Trials per backend: HYDRASCOPE_FAULT_TRIALS ingest kills and a quarter as
many detection kills. `make test` runs 8 (to stay within its time); the full run is
`HYDRASCOPE_FAULT_TRIALS=20 pytest tests/app/test_fault_injection.py` (2026-12-03: 20 ingest
and 5 detection kills per backend, both backends passed, 147 s)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.context import Context
from app.models import ClusterMember, DetectionRun
from tests.app.test_ingest_orphans import _alive, _children
from tests.helpers import account, dump_tables, ndjson, request

TRIALS = int(os.environ.get("HYDRASCOPE_FAULT_TRIALS", "8"))
DETECT_TRIALS = max(1, TRIALS // 4)
VOLATILE = {"detection_runs", "audit_log", "change_counters"}


def _data(tmp_path: Path) -> Path:
    recs: list[dict[str, object]] = [account(i, device_id=f"d{i // 4}") for i in range(400)]
    recs += [
        request(
            f"acct_{i % 400}", id=f"r{i}", ip=f"10.0.{i % 61}.{i % 13}", prompt=f"task {i % 90}"
        )
        for i in range(40_000)
    ]
    path = tmp_path / "data.ndjson"
    path.write_bytes(ndjson(*recs))
    return path


def _cli(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _kill_at_random(proc: subprocess.Popen[bytes], rng: random.Random, within: float) -> set[int]:
    """SIGKILL ``proc`` at a random moment (or let it finish first); returns its children."""
    deadline = time.monotonic() + rng.uniform(0.05, within)
    kids: set[int] = set()
    while time.monotonic() < deadline and proc.poll() is None:
        kids |= _children(proc.pid)
        time.sleep(0.01)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return kids


def _no_orphans(kids: set[int]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(k) for k in kids):
        time.sleep(0.05)
    assert not [k for k in kids if _alive(k)], "a killed command left processes behind"


def _stable(ctx: Context) -> dict[str, list[tuple[object, ...]]]:
    tables = dump_tables(ctx.engine)
    return {k: v for k, v in tables.items() if k not in VOLATILE and not k.startswith("cluster")}


@pytest.mark.slow
def test_kill_ingest_and_detection_anywhere_and_run_again(
    ctx: Context, other_ctx: Context, cli_env: dict[str, str], tmp_path: Path
) -> None:
    data = _data(tmp_path)
    env = {
        **os.environ,
        **cli_env,
        "HYDRASCOPE_INGEST_WORKERS": "2",
        "HYDRASCOPE_INGEST_BATCH_LINES": "2000",
        "HYDRASCOPE_INGEST_COMMIT_LINES": "4000",
    }
    clean_env = {**env, "HYDRASCOPE_DATABASE_URL": other_ctx.settings.database_url}
    assert _cli(clean_env, "ingest", str(data)).wait() == 0
    assert _cli(clean_env, "detect").wait() == 0
    rng = random.Random(2026)

    for _ in range(TRIALS):  # ingest, killed, then run again to the end
        kids = _kill_at_random(_cli(env, "ingest", str(data)), rng, within=4.0)
        _no_orphans(kids)
    assert _cli(env, "ingest", str(data)).wait() == 0
    assert _stable(ctx) == _stable(other_ctx), "ingest after kills == one clean ingest"

    for _ in range(DETECT_TRIALS):
        _kill_at_random(_cli(env, "detect"), rng, within=6.0)
    assert _cli(env, "detect").wait() == 0, "no killed run blocks the next one"
    with ctx.sessions() as s, other_ctx.sessions() as o:
        statuses = set(s.scalars(select(DetectionRun.status)))
        assert "running" not in statuses
        latest = s.scalars(
            select(DetectionRun.id)
            .where(DetectionRun.status == "completed")
            .order_by(DetectionRun.finished_at.desc())
        ).first()
        clean = o.scalars(select(DetectionRun.id).where(DetectionRun.status == "completed")).one()
        mine = set(
            s.execute(
                select(ClusterMember.cluster_id, ClusterMember.account_id).where(
                    ClusterMember.run_id == latest
                )
            )
        )
        theirs = set(
            o.execute(
                select(ClusterMember.cluster_id, ClusterMember.account_id).where(
                    ClusterMember.run_id == clean
                )
            )
        )
    assert {a for _, a in mine} == {a for _, a in theirs}, "the same accounts are clustered"
    assert len({c for c, _ in mine}) == len({c for c, _ in theirs})

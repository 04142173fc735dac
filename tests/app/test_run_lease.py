"""A detection run killed on any host never blocks detection for good: it is failed once its
heartbeat is older than the lease, or at once by an operator (audited)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from app.cli import main
from app.core.context import Context
from app.detection import lease, service
from app.models import AuditEntry, DetectionRun
from graph import DetectParams


def _as_if_on_another_host(ctx: Context, run_id: str, beat_age: float) -> None:
    with ctx.sessions() as s, s.begin():
        s.execute(
            update(DetectionRun)
            .where(DetectionRun.id == run_id)
            .values(
                counts={"runner": {"host": "worker-7.elsewhere", "pid": 4242}},
                heartbeat_at=datetime.now(UTC) - timedelta(seconds=beat_age),
            )
        )


def _run(ctx: Context, run_id: str) -> DetectionRun:
    with ctx.sessions() as s:
        run = s.get(DetectionRun, run_id)
        assert run is not None
        s.expunge(run)
        return run


def test_a_run_silent_past_its_lease_on_another_host_is_failed(ctx: Context) -> None:
    stuck = service.start_run(ctx, DetectParams())
    _as_if_on_another_host(ctx, stuck, beat_age=lease.LEASE_SECONDS + 60)
    fresh = service.start_run(ctx, DetectParams())  # does not raise RunInProgress
    old = _run(ctx, stuck)
    assert old.status == "failed" and "no heartbeat from worker-7.elsewhere" in (old.error or "")
    assert _run(ctx, fresh).status == "running"


def test_a_run_beating_on_another_host_still_blocks(ctx: Context) -> None:
    running = service.start_run(ctx, DetectParams())
    _as_if_on_another_host(ctx, running, beat_age=5)
    with pytest.raises(service.RunInProgress):
        service.start_run(ctx, DetectParams())


def test_an_operator_fails_a_run_at_once_and_it_is_audited(
    ctx: Context, cli_env: dict[str, str]
) -> None:
    running = service.start_run(ctx, DetectParams())
    _as_if_on_another_host(ctx, running, beat_age=5)
    r = CliRunner().invoke(main, ["detect"])
    assert r.exit_code == 1 and f"hydrascope runs fail {running}" in r.output
    r = CliRunner().invoke(main, ["runs", "fail", running, "--reason", "host lost"])
    assert r.exit_code == 0, r.output
    assert _run(ctx, running).status == "failed"
    with ctx.sessions() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "run.fail")).one()
        assert audit.target_id == running and audit.details == {"reason": "host lost"}
    again = CliRunner().invoke(main, ["runs", "fail", running, "--reason", "x"])
    assert again.exit_code == 1 and "no running run" in again.output


def test_a_working_run_beats(ctx: Context) -> None:
    run_id = service.start_run(ctx, DetectParams())
    with ctx.sessions() as s, s.begin():
        s.execute(update(DetectionRun).values(heartbeat_at=None))
    with lease.heartbeat(ctx.engine, run_id, every=0.05):
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while _run(ctx, run_id).heartbeat_at is None and datetime.now(UTC) < deadline:
            pass
    assert _run(ctx, run_id).heartbeat_at is not None

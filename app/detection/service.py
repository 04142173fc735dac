"""A detection run: record it, read the evidence, run graph/, persist stable clusters.

A run that fails or is interrupted is marked failed with its reason; the previous completed
run's clusters stay the ones served, since readers always take the latest *completed* run.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import update
from sqlalchemy.exc import StatementError

from app import __version__
from app.core.audit import record
from app.core.context import Context
from app.core.db import transaction
from app.core.errors import describe
from app.core.heap import release, retained_heap
from app.detection import display as display_mod
from app.detection import lease
from app.detection import repository as repo
from app.detection.loader import load_input
from app.detection.persist import save_run
from app.models import DetectionRun
from graph import DetectParams, run_detection
from graph.build import one_off_templates
from graph.data import DetectionInput
from graph.pipeline import peak_rss_mib
from graph.scoring import WEIGHTS_FILE


def _with_text(inp: DetectionInput, keys: np.ndarray) -> np.ndarray:
    """The templates of ``keys`` that still had a text when the input was read: an earlier
    run dropped the others' texts and samples (on real traffic most one-offs, run after run)."""
    t = inp.templates
    at = pd.Index(t.key).get_indexer(pd.Index(keys))  # hash look-ups; every key is known
    return keys[t.text_mask()[at]]


class RunInProgress(RuntimeError):
    def __init__(self, run_id: str) -> None:
        super().__init__(f"detection run {run_id} is already running")
        self.run_id = run_id


def params_from_settings(
    settings: Any, *, engine: str | None = None, resolution: float | None = None, seed: int = 0
) -> DetectParams:
    """Detection parameters: the defaults, the configured threshold, and any overrides."""
    kw: dict[str, Any] = {"seed": seed, "threshold": settings.review_threshold}
    if engine:
        kw["engine"] = engine
    if resolution is not None:
        kw["resolution"] = resolution
    return DetectParams(**kw)


def code_version() -> str:
    weights = hashlib.blake2b(WEIGHTS_FILE.read_bytes(), digest_size=4).hexdigest()
    return f"{__version__}+w{weights}"


def input_digest(inp: DetectionInput) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update("\n".join(inp.accounts.ids.tolist()).encode())
    for arr in (
        inp.accounts.created,
        inp.incidence.account,
        inp.incidence.kind,
        inp.incidence.key,
        inp.incidence.n,
        inp.activity.account,
        inp.activity.window,
        inp.activity.template,
        inp.activity.n,
    ):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def start_run(ctx: Context, params: DetectParams) -> str:
    """Create the run record (status ``running``); refuse if another run is running.

    A run left ``running`` by a process that died (on this host: its pid is gone; on any host:
    no heartbeat for ``lease.LEASE_SECONDS``) is marked failed instead of blocking detection
    forever (app.detection.lease).
    """
    run_id = "run_" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "_" + uuid.uuid4().hex[:6]
    with transaction(ctx.sessions) as s:
        running = repo.running_run(s)
        if running is not None:
            reason = lease.why_dead(running)
            if reason is None:
                raise RunInProgress(running.id)
            _mark_failed(running, reason)
        s.add(
            DetectionRun(
                id=run_id,
                status="running",
                started_at=datetime.now(UTC),
                engine=params.engine,
                params=params.record(),
                seed=params.seed,
                code_version=code_version(),
                timings={},
                counts={"runner": lease.runner()},
                progress="starting",
                heartbeat_at=datetime.now(UTC),
            )
        )
    return run_id


class NotRunning(LookupError):
    """The run does not exist or is not running."""


def _mark_failed(run: DetectionRun, reason: str) -> None:
    run.status = "failed"
    run.finished_at = datetime.now(UTC)
    run.error = reason[:2000]
    run.progress = None


def fail_run(ctx: Context, run_id: str, *, actor: str, reason: str) -> None:
    """Mark a running run failed at once (its process is known to be gone), audited."""
    with transaction(ctx.sessions) as s:
        run = repo.get_run(s, run_id)
        if run is None or run.status != "running":
            raise NotRunning(f"no running run {run_id!r}")
        _mark_failed(run, f"marked failed by {actor}: {reason}")
        record(s, actor, "run.fail", "run", run_id, {"reason": reason})


def execute_run(
    ctx: Context, run_id: str, params: DetectParams, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Run detection for a started run; on any failure mark it failed and re-raise. Freed
    memory stays in the process until the run ends (``app.core.heap``)."""
    with lease.heartbeat(ctx.engine, run_id), retained_heap():
        return _execute(ctx, run_id, params, progress)


def _execute(
    ctx: Context, run_id: str, params: DetectParams, progress: Callable[[str], None] | None
) -> dict[str, Any]:

    def say(stage: str) -> None:
        release()  # what the last stage freed goes back (app.core.heap)
        with transaction(ctx.sessions) as s:
            s.execute(update(DetectionRun).where(DetectionRun.id == run_id).values(progress=stage))
        if progress:
            progress(stage)

    try:
        t0 = time.perf_counter()
        say("loading evidence")
        with ctx.engine.connect() as conn:
            inp, load_counts, derived = load_input(conn, ctx.settings.activity_window_seconds)
            load_s = time.perf_counter() - t0
            load_counts["peak_rss_mib_after_load"] = peak_rss_mib()

            def display(wanted: Any) -> dict[tuple[int, int], str]:
                return display_mod.resolve(conn, wanted, derived)

            result = run_detection(inp, params, display=display, progress=say)
        digest = input_digest(inp)
        say("saving clusters")
        timings = {"load": round(load_s, 3), **result.timings}
        counts = save_run(
            ctx,
            run_id,
            inp.accounts.ids,
            result,
            digest=digest,
            counts=load_counts,
            runner=lease.runner(),
            timings=timings,  # gains persist and total
            started=t0,
            # one-off prompts link nobody: their samples (personal data) are not kept
            one_off_templates=_with_text(inp, one_off_templates(inp, result.graph)),
            with_text=int(inp.templates.text_mask().sum()),
        )
        counts["peak_rss_mib"] = peak_rss_mib()
        return {"run_id": run_id, "timings": timings, "counts": counts}
    except BaseException as exc:
        reason = (
            "interrupted"
            if isinstance(exc, KeyboardInterrupt)
            else describe(exc)
            if isinstance(exc, StatementError)  # never the failing row's values
            else f"{type(exc).__name__}: {exc}"
        )
        with transaction(ctx.sessions) as s:
            s.execute(
                update(DetectionRun)
                .where(DetectionRun.id == run_id)
                .values(
                    status="failed",
                    finished_at=datetime.now(UTC),
                    error=reason[:2000],
                    progress=None,
                )
            )
        raise


def detect(
    ctx: Context, params: DetectParams, progress: Callable[[str], None] | None = None
) -> dict[str, Any]:
    return execute_run(ctx, start_run(ctx, params), params, progress)

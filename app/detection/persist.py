"""Writing a finished detection run: stable cluster ids, snapshots, members, edges, change
numbers and the run record, in one transaction.

Steps: match this run's clusters to the previous run's (stable ids and lineage), attach the
prompt samples reviewers see, turn each cluster into its rows (a new cluster row or changes to
the existing one, a snapshot, members, edges), number the changed clusters for the change
feed, write everything, and mark the run completed. The change-counter lock is taken first, so
reviews wait for this commit and the feed sees the run whole.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.core import changes
from app.core.context import Context
from app.core.db import transaction
from app.detection import repository as repo
from app.detection.prune import drop_one_off_templates
from app.models import Cluster, ClusterEdge, ClusterMember, ClusterSnapshot, DetectionRun
from graph import match_clusters
from graph.gc_pause import paused_gc
from graph.pipeline import Cluster as Found
from graph.pipeline import DetectionResult

#: Prompt samples shown per template in a cluster's explanation (reviewers read a few, and the
#: snapshot is stored per run).
SAMPLES_PER_TEMPLATE = 3
#: A decided cluster that gains members is marked regrown: the network replaced banned accounts.
REGROWTH_STATUSES = ("confirmed", "actioned")
#: Gained members listed in a regrown cluster's lineage (the full list is in the members table).
REGROWTH_LISTED = 50


@dataclass
class _Rows:
    """Everything one run writes, gathered before the writes."""

    new: list[dict[str, Any]] = field(default_factory=list)
    touched: list[Cluster] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    regrown: int = 0


def save_run(
    ctx: Context,
    run_id: str,
    ids: np.ndarray,
    result: DetectionResult,
    *,
    digest: str,
    counts: dict[str, Any],
    runner: dict[str, Any],
    timings: dict[str, float],
    started: float,
    one_off_templates: np.ndarray | None = None,
    with_text: int = 0,
) -> dict[str, Any]:
    """Persist ``result`` as run ``run_id`` and mark it completed; returns the run's counts.
    ``ids`` are the account ids the result's member indices point into; ``runner`` names the
    process that ran it (host, pid). ``timings`` (seconds per stage so far) gain, in place,
    ``persist`` and ``total`` (since ``started``, a ``perf_counter`` reading) and are written in
    the same update that marks the run completed, so a reader never sees a completed run
    without them. The prompt samples and skeleton texts of ``one_off_templates`` (templates
    only one account used that still have a text: no evidence, and personal data;
    ``with_text`` is how many templates have one) are deleted in the same transaction
    (``app.detection.prune``), once the clusters' explanations have taken theirs; their
    stored signatures stay, so a later near-duplicate from another account still groups
    with them."""
    now = datetime.now(UTC)
    t_persist = time.perf_counter()
    member_ids = [ids[c.members].tolist() for c in result.clusters]
    with transaction(ctx.sessions) as s:
        changes.lock(s)  # reviews wait for this commit; the feed sees it whole
        prev_run = repo.latest_completed_run(s)
        previous = repo.run_members(s, prev_run.id) if prev_run else {}
        cluster_ids, lineage, gone = match_clusters(
            previous, member_ids, taken=repo.all_cluster_ids(s)
        )
        existing = repo.existing_clusters(s, cluster_ids)
        _attach_samples(s, result.clusters)
        dropped, texts_dropped = (
            (0, 0)
            if one_off_templates is None
            else drop_one_off_templates(s.connection(), one_off_templates, with_text)
        )
        rows = _Rows()
        # millions of row dicts, none in a cycle: see graph.gc_pause (the writes run with the
        # collector back on: a server's request threads share it)
        with paused_gc():
            for c, cid, members, lin in zip(
                result.clusters, cluster_ids, member_ids, lineage, strict=True
            ):
                lin = _track(rows, c, cid, members, lin, previous, existing.get(cid), run_id, now)
                rows.snapshots.append(_snapshot(run_id, cid, c, len(members), lin))
                rows.members.extend(
                    {"run_id": run_id, "cluster_id": cid, "account_id": a, "strength": st}
                    for a, st in zip(members, c.strength.tolist(), strict=True)
                )
                rows.edges.extend(
                    {
                        "run_id": run_id,
                        "cluster_id": cid,
                        "source": ids[a],
                        "target": ids[b],
                        "weight": w,
                        "families": fam,
                    }
                    for a, b, w, fam in c.edges
                )
        gone_rows = _number_changes(s, rows, gone)
        _write(s, rows, gone_rows, run_id, now)
        counts = {
            **counts,
            **result.counts,
            "runner": runner,
            "new_clusters": len(rows.new),
            "gone_clusters": len(gone),
            "regrown_clusters": rows.regrown,
            "prompt_samples_dropped": dropped,
            "template_texts_dropped": texts_dropped,
        }
        repo.refresh_statistics(s)
        timings["persist"] = round(time.perf_counter() - t_persist, 3)
        timings["total"] = round(time.perf_counter() - started, 3)
        s.execute(
            update(DetectionRun)
            .where(DetectionRun.id == run_id)
            .values(
                status="completed",
                finished_at=now,
                input_digest=digest,
                counts=counts,
                progress=None,
                timings=timings,
            )
        )
    return counts


def _attach_samples(s: Session, clusters: list[Found]) -> None:
    """Each explained template gets its skeleton text (detection reads no texts from the
    database: grouping runs on stored integers) and the first prompt samples stored for it."""
    templates = sorted(
        {int(t["template_key"]) for c in clusters for t in c.explanation["templates"]}
    )
    samples = repo.prompt_samples(s, templates, SAMPLES_PER_TEMPLATE)
    texts = repo.template_texts(s, templates)
    for c in clusters:
        for t in c.explanation["templates"]:
            key = int(t["template_key"])
            t["samples"] = samples.get(key, [])
            if t.get("skeleton") is None:
                t["skeleton"] = texts.get(key)


def _track(
    rows: _Rows,
    c: Found,
    cid: str,
    members: list[str],
    lin: dict[str, Any],
    previous: dict[str, list[str]],
    old: Cluster | None,
    run_id: str,
    now: datetime,
) -> dict[str, Any]:
    """Add a new cluster row, or update the stable cluster ``old`` (version, regrowth);
    returns the lineage with what was gained and lost since the previous run."""
    before = set(previous.get(cid, ()))
    gained = sorted(set(members) - before) if cid in previous else []
    lost = sorted(before - set(members)) if cid in previous else []
    lin = {**lin, "gained": len(gained), "lost": len(lost)}
    if old is None:
        rows.new.append(_new_cluster(cid, c, len(members), run_id, now))
        return lin
    changed = (
        old.gone
        or abs(old.score - c.score) > 1e-9
        or old.flagged != c.flagged
        or old.size != len(members)
        or bool(gained)
        or bool(lost)
    )
    grew = bool(gained) and old.status in REGROWTH_STATUSES
    rows.regrown += grew
    old.last_run_id = run_id
    old.score, old.flagged, old.size, old.gone = c.score, c.flagged, len(members), False
    if grew:
        old.regrown = True
        lin["regrowth"] = gained[:REGROWTH_LISTED]
    if changed:
        old.version += 1
        old.updated_at = now
        old.gone_reason, old.successors = None, None
        rows.touched.append(old)
    return lin


def _new_cluster(cid: str, c: Found, size: int, run_id: str, now: datetime) -> dict[str, Any]:
    return {
        "id": cid,
        "created_run_id": run_id,
        "last_run_id": run_id,
        "status": "new",
        "tags": [],
        "score": c.score,
        "flagged": c.flagged,
        "size": size,
        "regrown": False,
        "gone": False,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


def _snapshot(run_id: str, cid: str, c: Found, size: int, lin: dict[str, Any]) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "cluster_id": cid,
        "score": c.score,
        "flagged": c.flagged,
        "size": size,
        "signals": c.signals,
        "summary": c.explanation["summary"],
        "explanation": c.explanation,
        "lineage": lin,
    }


def _number_changes(
    s: Session, rows: _Rows, gone: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Change-feed numbers, in one block: new clusters, changed ones, then tombstones."""
    numbers = iter(changes.take(s, len(rows.new) + len(rows.touched) + len(gone)))
    for row, seq in zip(rows.new, numbers, strict=False):
        row["change_seq"] = seq
    for old, seq in zip(rows.touched, numbers, strict=False):
        old.change_seq = seq
    return [
        {"b_id": cid, "b_seq": next(numbers), "b_reason": g["kind"], "b_into": g["into"]}
        for cid, g in sorted(gone.items())
    ]


def _write(
    s: Session, rows: _Rows, gone_rows: list[dict[str, Any]], run_id: str, now: datetime
) -> None:
    repo.bulk_insert(s, Cluster, rows.new)
    s.flush()
    repo.bulk_insert(s, ClusterSnapshot, rows.snapshots)
    repo.bulk_insert(s, ClusterMember, rows.members)
    repo.bulk_insert(s, ClusterEdge, rows.edges)
    repo.mark_gone(s, gone_rows, run_id, now)

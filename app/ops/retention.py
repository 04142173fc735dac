"""Data retention: `hydrascope purge --older-than DAYS`.

What goes (all in one transaction, audited with the counts):

* request-derived data last seen before the cutoff: observations, activity windows, prompt
  samples, then the clear-text observed values, template texts and template signatures
  nothing refers to any more;
* accounts created before the cutoff with no request since, and everything about them
  (payment methods, observations, activity, usage);
* the members, edges and snapshots of detection runs that finished before the cutoff, except
  the latest completed run (what the API serves); the run records stay (no personal data);
* tombstones (gone clusters) last changed before the cutoff that nobody reviewed.

What stays: anything tied to a cluster under legal hold, meaning a status of in_review,
confirmed or actioned, or flagged and not reviewed yet (its snapshots, members, edges, and its
members' accounts and data; a dismissed cluster is not held),
review decisions, the audit log, and request digests (keyed hashes that make re-sends no-ops;
they carry no time and identify nobody without the secret).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, not_, or_, select, tuple_
from sqlalchemy.orm import Session

from app.core.audit import record
from app.detection.repository import latest_completed_run
from app.models import (
    Account,
    AccountUsage,
    Activity,
    Cluster,
    ClusterEdge,
    ClusterMember,
    ClusterSnapshot,
    DetectionRun,
    Observation,
    ObservedValue,
    PaymentMethod,
    PromptSample,
    ReviewDecision,
    TemplateSignature,
    TemplateText,
)

HOLD_STATUSES = ("in_review", "confirmed", "actioned")


def held_clusters() -> Any:
    """Clusters whose evidence stays: under review or decided against, and flagged ones nobody
    has looked at yet (purging a suspected network before review would destroy the case)."""
    awaiting_review = and_(
        Cluster.flagged.is_(True), Cluster.status == "new", Cluster.gone.is_(False)
    )
    return or_(Cluster.status.in_(HOLD_STATUSES), awaiting_review)


def purge(
    session: Session,
    older_than_days: int,
    *,
    actor: str,
    window_seconds: int,
    dry_run: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Delete what is older than the cutoff (see the module doc); return counts per table."""
    if older_than_days < 1:
        raise ValueError("--older-than must be at least 1 day")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=older_than_days)
    epoch = int(cutoff.timestamp())
    held = select(Cluster.id).where(held_clusters())
    held_accounts = select(ClusterMember.account_id).where(ClusterMember.cluster_id.in_(held))
    latest = latest_completed_run(session)
    old_runs = select(DetectionRun.id).where(
        DetectionRun.finished_at < cutoff,
        DetectionRun.id != (latest.id if latest else ""),
    )
    stale_accounts = select(Account.id).where(
        Account.created_at < cutoff,
        Account.id.not_in(held_accounts),
        not_(
            exists().where(AccountUsage.account_id == Account.id, AccountUsage.last_seen >= epoch)
        ),
    )
    gone_clusters = select(Cluster.id).where(
        Cluster.gone.is_(True),
        Cluster.updated_at < cutoff,
        Cluster.status.not_in(HOLD_STATUSES),
        not_(exists().where(ReviewDecision.cluster_id == Cluster.id)),
    )
    not_held = ClusterMember.cluster_id.not_in(held)
    plan: list[tuple[str, Any, Any]] = [
        (
            "cluster_edges",
            ClusterEdge,
            and_(ClusterEdge.run_id.in_(old_runs), ClusterEdge.cluster_id.not_in(held)),
        ),
        ("cluster_members", ClusterMember, and_(ClusterMember.run_id.in_(old_runs), not_held)),
        (
            "cluster_snapshots",
            ClusterSnapshot,
            and_(ClusterSnapshot.run_id.in_(old_runs), ClusterSnapshot.cluster_id.not_in(held)),
        ),
        (
            "clusters",
            Cluster,
            and_(
                Cluster.id.in_(gone_clusters),
                not_(exists().where(ClusterSnapshot.cluster_id == Cluster.id)),
            ),
        ),
        ("payment_methods", PaymentMethod, PaymentMethod.account_id.in_(stale_accounts)),
        ("account_usage", AccountUsage, AccountUsage.account_id.in_(stale_accounts)),
        (
            "observations",
            Observation,
            or_(
                Observation.account_id.in_(stale_accounts),
                and_(Observation.last_seen < epoch, Observation.account_id.not_in(held_accounts)),
            ),
        ),
        (
            "activity",
            Activity,
            or_(
                Activity.account_id.in_(stale_accounts),
                and_(
                    Activity.window < epoch // window_seconds,
                    Activity.account_id.not_in(held_accounts),
                ),
            ),
        ),
        (
            "prompt_samples",
            PromptSample,
            and_(PromptSample.ts < epoch, PromptSample.account_id.not_in(held_accounts)),
        ),
        ("accounts", Account, Account.id.in_(stale_accounts)),
        (
            "observed_values",
            ObservedValue,
            tuple_(ObservedValue.kind, ObservedValue.value_key).not_in(
                select(Observation.kind, Observation.value_key)
            ),
        ),
        (  # template skeletons are referenced by the activity windows
            "template_texts",
            TemplateText,
            TemplateText.template_key.not_in(select(Activity.template_key).distinct()),
        ),
        (  # a template's band keys go with its last activity window, as its skeleton does
            "template_signatures",
            TemplateSignature,
            TemplateSignature.__table__.c.template_key.not_in(
                select(Activity.template_key).distinct()
            ),
        ),
    ]
    counts: dict[str, int] = {}
    # a dry run deletes inside a savepoint and rolls it back: its counts are exact, cascades
    # included (values orphaned only once their observations go)
    savepoint = session.begin_nested() if dry_run else None
    for name, model, where in plan:
        res = session.execute(
            delete(model).where(where).execution_options(synchronize_session=False)
        )
        counts[name] = int(res.rowcount or 0)  # type: ignore[attr-defined]
    if savepoint is not None:
        savepoint.rollback()
    summary = {
        "older_than_days": older_than_days,
        "cutoff": cutoff.isoformat(),
        "dry_run": dry_run,
        "deleted" if not dry_run else "would_delete": counts,
    }
    if not dry_run:
        record(session, actor, "data.purge", None, None, summary)
    return summary

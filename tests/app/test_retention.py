"""hydrascope purge: old personal data and old runs go; held clusters and the audit stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
from click.testing import CliRunner
from sqlalchemy import func, select, update

from app.cli import main
from app.core.context import Context
from app.core.db import transaction
from app.detection import service
from app.detection.repository import latest_completed_run
from app.models import (
    Account,
    Activity,
    AuditEntry,
    Cluster,
    ClusterMember,
    ClusterSnapshot,
    Observation,
    ObservedValue,
    TemplateText,
)
from app.ops.retention import purge
from graph import DetectParams


def _count(ctx: Context, model: object) -> int:
    with ctx.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)  # type: ignore[arg-type]


def test_purge_keeps_held_clusters_and_the_latest_run(ctx: Context, api: object) -> None:
    # api: the shared small world, ingested and detected once; one more run on top of it
    with ctx.sessions() as s:
        first = latest_completed_run(s)
        assert first is not None
    service.detect(ctx, DetectParams(seed=0))
    with ctx.sessions() as s, s.begin():
        held = s.scalars(
            select(Cluster.id).where(Cluster.flagged.is_(True)).order_by(Cluster.id)
        ).first()
        s.execute(update(Cluster).where(Cluster.id == held).values(status="confirmed"))
        # held: the confirmed cluster, and the flagged ones nobody reviewed yet
        awaiting = select(Cluster.id).where(
            Cluster.flagged.is_(True), Cluster.status == "new", Cluster.gone.is_(False)
        )
        awaiting_ids = set(s.scalars(awaiting))
        held_members = set(
            s.scalars(
                select(ClusterMember.account_id).where(
                    (ClusterMember.cluster_id == held) | ClusterMember.cluster_id.in_(awaiting)
                )
            )
        )
        assert len(held_members) > len(
            set(s.scalars(select(ClusterMember.account_id).where(ClusterMember.cluster_id == held)))
        ), "the world has flagged clusters besides the confirmed one"
    accounts_before = _count(ctx, Account)
    # a purge far in the future: everything is older than the cutoff
    later = datetime.now(UTC) + timedelta(days=400)
    with transaction(ctx.sessions) as s:
        plan = purge(s, 30, actor="test", window_seconds=600, dry_run=True, now=later)
    assert _count(ctx, Account) == accounts_before, "a dry run deletes nothing"
    with transaction(ctx.sessions) as s:
        done = purge(s, 30, actor="test", window_seconds=600, now=later)
    assert done["deleted"] == plan["would_delete"]
    with ctx.sessions() as s:
        left = set(s.scalars(select(Account.id)))
        assert left == held_members, "only the held clusters' accounts remain"
        obs_accounts = set(s.scalars(select(Observation.account_id).distinct()))
        assert obs_accounts <= held_members
        # the first run's snapshots are gone except the held clusters'; the latest run stays
        first_snaps = set(
            s.scalars(select(ClusterSnapshot.cluster_id).where(ClusterSnapshot.run_id == first.id))
        )
        assert held in first_snaps and first_snaps <= {held} | awaiting_ids
        referenced = {tuple(r) for r in s.execute(select(Observation.kind, Observation.value_key))}
        referenced |= {(4, k) for (k,) in s.execute(select(Activity.template_key).distinct())}
        kept_values = {
            tuple(r) for r in s.execute(select(ObservedValue.kind, ObservedValue.value_key))
        }
        assert kept_values and kept_values <= referenced, "no clear value outlives its data"
        kept_texts = {(4, k) for (k,) in s.execute(select(TemplateText.template_key))}
        assert kept_texts and kept_texts <= referenced, "no template text outlives its use"
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "data.purge")).all()
        assert len(audit) == 1 and audit[0].details["deleted"]["accounts"] > 0


def test_purge_of_recent_data_deletes_nothing_and_the_cli_confirms(
    ctx: Context, api: object, cli_env: dict[str, str]
) -> None:
    before = _count(ctx, Observation)
    # the world's requests are recent: a 3650-day retention keeps everything
    r = CliRunner().invoke(main, ["purge", "--older-than", "3650", "--yes"])
    assert r.exit_code == 0, r.output
    out = orjson.loads(r.stdout)
    assert all(v == 0 for v in out["deleted"].values()) and _count(ctx, Observation) == before
    refused = CliRunner().invoke(main, ["purge", "--older-than", "3650"], input="n\n")
    assert refused.exit_code == 1 and "delete these rows?" in refused.output
    bad = CliRunner().invoke(main, ["purge", "--older-than", "0"])
    assert bad.exit_code == 2 and "--older-than" in bad.output

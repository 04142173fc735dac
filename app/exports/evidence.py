"""Everything an export holds about one cluster, collected once and redacted once.

Every format (bundle, graph files, STIX, MISP, report) is rendered from this one
:class:`Evidence`, so what a format can leak is decided here, not per format.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import __version__
from app.clusters import repository as clusters_repo
from app.clusters.schemas import ClusterDetail
from app.clusters.service import get_cluster
from app.core.timestamps import from_epoch, iso
from app.detection.loader import ACCOUNT_KEY_KINDS, LINK_OBSERVATION_KINDS
from app.detection.values import attribute_text, bin_postcode_text, derived_key
from app.exports.formats import REDACTIONS
from app.exports.redact import Redactor
from app.models import (
    Account,
    AccountUsage,
    Activity,
    DetectionRun,
    Observation,
    PaymentMethod,
)
from graph.types import Kind

_CHUNK = 2000


@dataclass
class Evidence:
    export_id: str
    redaction: str
    exported_by: str
    exported_at: datetime
    service_version: str
    cluster: dict[str, Any]
    explanation: dict[str, Any]
    members: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    run: dict[str, Any]
    history: list[dict[str, Any]]
    values: list[dict[str, Any]] = field(default_factory=list)  # shared values, strongest first
    #: each shared value held by two or more members: its family, kind and holders (as shown)
    hubs: list[dict[str, Any]] = field(default_factory=list)

    def manifest_head(self) -> dict[str, Any]:
        return {
            "export_id": self.export_id,
            "cluster_id": self.cluster["id"],
            "run_id": self.run["id"],
            "redaction": self.redaction,
            "exported_by": self.exported_by,
            "exported_at": self.exported_at.isoformat(),
            "service": "hydrascope",
            "service_version": self.service_version,
        }


def member_values(
    session: Session, ids: list[str], wanted: set[tuple[int, int]]
) -> dict[str, set[tuple[int, int]]]:
    """Which of the ``wanted`` (kind, key) values each member holds."""
    held: dict[str, set[tuple[int, int]]] = defaultdict(set)
    kinds = {k for k, _ in wanted}
    cols = [getattr(Account, c) for c in ACCOUNT_KEY_KINDS]
    for i in range(0, len(ids), _CHUNK):
        part = ids[i : i + _CHUNK]
        for row in session.execute(
            select(Account.id, Account.attributes, *cols).where(Account.id.in_(part))
        ):
            for col, kind in ACCOUNT_KEY_KINDS.items():
                v = getattr(row, col)
                if v is not None and (int(kind), int(v)) in wanted:
                    held[row.id].add((int(kind), int(v)))
            for k, v in (row.attributes or {}).items():
                key = (int(Kind.ATTRIBUTE), derived_key(attribute_text(k, v)))
                if key in wanted:
                    held[row.id].add(key)
        q = select(
            PaymentMethod.account_id,
            PaymentMethod.fingerprint_key,
            PaymentMethod.billing_name_key,
            PaymentMethod.bin,
            PaymentMethod.billing_postcode,
        ).where(PaymentMethod.account_id.in_(part))
        for a, fp, bn, bin_, pc in session.execute(q):
            pay: list[tuple[int, int]] = [(int(Kind.CARD), int(fp))]
            if bn is not None:
                pay.append((int(Kind.BILLING_NAME), int(bn)))
            if bin_ and pc:
                pay.append((int(Kind.BIN_POSTCODE), derived_key(bin_postcode_text(bin_, pc))))
            held[a].update(p for p in pay if p in wanted)
        obs_kinds = [int(k) for k in LINK_OBSERVATION_KINDS if int(k) in kinds]
        if obs_kinds:
            keys = sorted({vk for k, vk in wanted if k in obs_kinds})
            q2 = select(Observation.account_id, Observation.kind, Observation.value_key).where(
                Observation.account_id.in_(part),
                Observation.kind.in_(obs_kinds),
                Observation.value_key.in_(keys),
            )
            for a, k, vk in session.execute(q2):
                held[a].add((int(k), int(vk)))
        tpl = sorted({vk for k, vk in wanted if k == int(Kind.TEMPLATE)})
        if tpl:  # templates live in the activity windows
            q3 = (
                select(Activity.account_id, Activity.template_key)
                .where(Activity.account_id.in_(part), Activity.template_key.in_(tpl))
                .distinct()
            )
            for a, vk in session.execute(q3):
                held[a].add((int(Kind.TEMPLATE), int(vk)))
    return held


def collect(
    session: Session,
    cluster_id: str,
    *,
    redaction: str,
    exported_by: str,
    keyed: Any,
) -> Evidence:
    """The cluster's evidence at its latest snapshot, in the requested redaction."""
    if redaction not in REDACTIONS:
        raise ValueError(f"redaction must be one of {', '.join(REDACTIONS)}")
    r = Redactor(redaction == "shareable", keyed)
    detail = get_cluster(session, cluster_id, personal=True)
    explanation = dict(detail.explanation)
    evidence, values, wanted = _shown_values(explanation, r)
    explanation["evidence"] = evidence
    for t in explanation.get("templates", []):
        t["samples"] = [r.prompt(s) for s in t.get("samples", [])]
    members_rows = _all_members(session, detail.run_id, cluster_id)
    ids = [a for a, _ in members_rows]
    members = _members(session, members_rows, r)
    held = member_values(session, ids, set(wanted))
    edges = _edges(session, detail.run_id, cluster_id, held)
    if r.shareable:
        explanation.pop("regrowth", None)
    return Evidence(
        export_id=f"exp_{uuid.uuid4().hex[:16]}",
        redaction=redaction,
        exported_by=exported_by if not r.shareable else "hydrascope",
        exported_at=datetime.now(UTC),
        service_version=__version__,
        cluster=_cluster(detail, explanation, r),
        explanation=explanation,
        members=members,
        edges=[_edge(e, wanted, r) for e in edges],
        run=_provenance(session, detail.run_id),
        history=_history(detail, r),
        values=values,
        hubs=_hubs(ids, held, wanted, r),
    )


def _hubs(
    ids: list[str], held: dict[str, set[tuple[int, int]]], wanted: Wanted, r: Redactor
) -> list[dict[str, Any]]:
    holders: dict[tuple[int, int], list[str]] = {}
    for a in ids:
        for key in sorted(held.get(a, ())):
            holders.setdefault(key, []).append(r.account(a))
    return [
        {"family": wanted[k]["family"], "kind": wanted[k]["kind"], "members": members}
        for k, members in holders.items()
        if len(members) >= 2
    ]


Wanted = dict[tuple[int, int], dict[str, Any]]


def _shown_values(
    explanation: dict[str, Any], r: Redactor
) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]], Wanted]:
    """The explanation's evidence values as shown (redacted) per family, all of them strongest
    first, and the (kind, key) pairs to look for on edges."""
    wanted: Wanted = {}
    evidence: dict[str, list[dict[str, Any]]] = {}
    values: list[dict[str, Any]] = []
    for family, items in (explanation.get("evidence") or {}).items():
        out = []
        for v in items:
            shown = {**v, "value": r.value(v["kind"], v.get("value"))}
            shown.pop("value_key", None)
            out.append(shown)
            values.append({"family": family, **shown})
            try:
                kind = int(Kind[v["kind"].upper()])
            except KeyError:
                continue
            wanted[(kind, int(v["value_key"]))] = {"family": family, **shown}
        evidence[family] = out
    values.sort(key=lambda v: -float(v.get("weight", 0)) * int(v.get("members", 1)))
    return evidence, values, wanted


def _all_members(session: Session, run_id: str, cluster_id: str) -> list[tuple[str, float]]:
    """Every member of the cluster in the run with its link strength, in pages."""
    rows: list[tuple[str, float]] = []
    after = None
    while True:
        _, page = clusters_repo.page_members(session, run_id, cluster_id, _CHUNK, after)
        rows += page
        if len(page) < _CHUNK:
            return rows
        after = page[-1][0]


def _members(
    session: Session, members_rows: list[tuple[str, float]], r: Redactor
) -> list[dict[str, Any]]:
    """One row per member: account facts and usage, personal values as the redaction allows."""
    ids = [a for a, _ in members_rows]
    facts: dict[str, Any] = {}
    for i in range(0, len(ids), _CHUNK):
        q = (
            select(Account, AccountUsage)
            .outerjoin(AccountUsage, AccountUsage.account_id == Account.id)
            .where(Account.id.in_(ids[i : i + _CHUNK]))
        )
        for acc, use in session.execute(q):
            facts[acc.id] = (acc, use)
    members = []
    for a, strength in members_rows:
        acc, use = facts.get(a, (None, None))
        m: dict[str, Any] = {
            "account": r.account(a),
            "strength": round(float(strength), 4),
            "signed_up": iso(acc.created_at) if acc else None,
            "country": acc.country if acc else None,
            "org_id": r.personal("org", acc.org_id) if acc else None,
            "email_domain": r.email_domain(acc.email_domain) if acc else None,
            "requests": int(use.requests) if use else 0,
            "input_tokens": int(use.input_tokens) if use else 0,
            "output_tokens": int(use.output_tokens) if use else 0,
            "first_seen": iso(from_epoch(use.first_seen)) if use else None,
            "last_seen": iso(from_epoch(use.last_seen)) if use else None,
        }
        if acc is not None:
            m.update(
                email=r.personal("email", acc.email),
                phone=r.personal("phone", acc.phone),
                name=r.personal("name", acc.name),
                signup_ip=r.ip(acc.signup_ip),
                device_id=r.personal("device", acc.device_id),
            )
        members.append(m)
    return members


def _edges(
    session: Session, run_id: str, cluster_id: str, held: dict[str, set[tuple[int, int]]]
) -> list[tuple[str, str, float, dict[str, Any], list[tuple[int, int]]]]:
    """The run's stored edges of the cluster, each with the evidence values both ends hold."""
    return [
        (src, dst, w, fams or {}, sorted(held.get(src, set()) & held.get(dst, set())))
        for src, dst, w, fams in clusters_repo.cluster_edges(session, run_id, cluster_id)
    ]


def _edge(
    e: tuple[str, str, float, dict[str, Any], list[tuple[int, int]]], wanted: Wanted, r: Redactor
) -> dict[str, Any]:
    src, dst, w, fams, both = e
    return {
        "source": r.account(src),
        "target": r.account(dst),
        "weight": round(float(w), 4),
        "families": fams,
        "shared": [{"kind": wanted[k]["kind"], "value": wanted[k]["value"]} for k in both],
    }


def _provenance(session: Session, run_id: str) -> dict[str, Any]:
    """The detection run that produced the snapshot: enough to reproduce it."""
    run = session.get(DetectionRun, run_id)
    assert run is not None
    return {
        "id": run.id,
        "status": run.status,
        "started_at": iso(run.started_at),
        "finished_at": iso(run.finished_at),
        "engine": run.engine,
        "seed": run.seed,
        "params": run.params,
        "code_version": run.code_version,
        "input_digest": run.input_digest,
        "timings": run.timings,
    }


def _history(detail: ClusterDetail, r: Redactor) -> list[dict[str, Any]]:
    """Review decisions; who decided and why stay internal."""
    return [
        {
            "at": h.at.isoformat(),
            "from_status": h.from_status,
            "to_status": h.to_status,
            **({} if r.shareable else {"actor": h.actor, "note": h.note, "changes": h.changes}),
        }
        for h in detail.history
    ]


def _cluster(detail: ClusterDetail, explanation: dict[str, Any], r: Redactor) -> dict[str, Any]:
    """The cluster's summary; review notes, tags, assignee and lineage detail stay internal."""
    cluster = {
        "id": detail.id,
        "status": detail.status,
        "score": detail.score,
        "flagged": detail.flagged,
        "size": detail.size,
        "summary": detail.summary,
        "signals": detail.signals,
        "score_breakdown": explanation.get("score_breakdown") or explanation.get("breakdown"),
        "regrown": detail.regrown,
        "gone": detail.gone,
        "lineage": detail.lineage,
        "created_at": detail.created_at.isoformat(),
        "updated_at": detail.updated_at.isoformat(),
        "tags": [] if r.shareable else detail.tags,
        "assignee": None if r.shareable else detail.assignee,
        "notes": None if r.shareable else detail.notes,
    }
    if r.shareable:
        cluster["lineage"] = {"kind": detail.lineage.get("kind")}
    return cluster

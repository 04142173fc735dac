"""Account lookup: its facts, usage, observations, current and past clusters, links.

Personal values (email, name, phone, IPs, device, payment fingerprint, personal observed
values) are returned only to the reviewer role and above; viewers get the shape.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.accounts import repository as repo
from app.accounts.schemas import (
    AccountFacts,
    AccountView,
    Link,
    Membership,
    ObservedKind,
    PaymentOut,
    Usage,
)
from app.core.errors import NotFound, quoted
from app.core.timestamps import aware, from_epoch
from graph.build import kind_name
from graph.types import ACTIVITY_WINDOW_SECONDS, Kind

# observed values that do not identify a person: shown to every role
PUBLIC_KINDS = frozenset({Kind.USER_AGENT, Kind.TEMPLATE, Kind.MODEL})


def _membership(r: Any) -> Membership:
    return Membership(
        cluster_id=r.cluster_id,
        run_id=r.run_id,
        run_finished_at=aware(r.finished_at),
        strength=round(float(r.strength), 4),
        score=float(r.score),
        flagged=bool(r.flagged),
        status=r.status,
    )


def lookup(
    session: Session,
    account_id: str,
    *,
    personal: bool,
    window_seconds: int = ACTIVITY_WINDOW_SECONDS,
) -> AccountView:
    a = repo.account(session, account_id)
    if a is None:
        raise NotFound(f"no account {quoted(account_id)}")
    facts = AccountFacts(
        id=a.id,
        created_at=a.created_at,
        country=a.country,
        org_id=a.org_id,
        email_domain=a.email_domain,
        email_shape=a.email_shape,
        # a user agent is not personal here (PUBLIC_KINDS: viewers see the observed ones and
        # shareable exports keep them): the sign-up one is shown alike
        user_agent=a.user_agent,
    )
    if personal:
        facts = facts.model_copy(
            update={
                "email": a.email,
                "name": a.name,
                "phone": a.phone,
                "signup_ip": a.signup_ip,
                "device_id": a.device_id,
                "attributes": a.attributes,
            }
        )
    pays = [
        PaymentOut(
            brand=p.brand,
            last4=p.last4,
            bin=p.bin,
            billing_country=p.billing_country,
            added_at=aware(p.added_at),
            fingerprint=p.fingerprint if personal else None,
        )
        for p in repo.payments(session, account_id)
    ]
    use = (
        Usage(
            requests=a.u_requests,
            input_tokens=a.u_input_tokens,
            output_tokens=a.u_output_tokens,
            first_seen=from_epoch(a.u_first_seen),
            last_seen=from_epoch(a.u_last_seen),
        )
        if a.u_requests is not None
        else None
    )
    observed: dict[int, ObservedKind] = {}
    for kind, distinct, requests, value, n, first, last in repo.observations(session, account_id):
        entry = observed.get(kind)
        if entry is None:
            entry = observed[kind] = ObservedKind(
                kind=kind_name(kind), distinct_values=distinct, requests=requests, top=[]
            )
        shown = personal or kind in PUBLIC_KINDS
        entry.top.append(
            {
                "value": value if shown else None,
                "requests": int(n),
                "first_seen": from_epoch(first),
                "last_seen": from_epoch(last),
            }
        )
    for distinct, requests, value, n, first, last in repo.templates(
        session, account_id, window_seconds
    ):
        entry = observed.get(int(Kind.TEMPLATE))
        if entry is None:
            entry = observed[int(Kind.TEMPLATE)] = ObservedKind(
                kind="template", distinct_values=distinct, requests=requests, top=[]
            )
        entry.top.append(
            {
                "value": value,
                "requests": int(n),
                "first_seen": from_epoch(first),
                "last_seen": from_epoch(last),
            }
        )
    rows = repo.memberships(session, account_id)
    current = None
    if rows and rows[0].run_id == rows[0].latest_run_id:
        current, rows = _membership(rows[0]), rows[1:]
    links = [
        Link(account_id=o, cluster_id=c, weight=round(float(w), 4), families=f or {})
        for o, c, w, f in repo.links(session, account_id)
    ]
    return AccountView(
        account=facts,
        payment_methods=pays,
        usage=use,
        observations=[observed[k] for k in sorted(observed)],
        cluster=current,
        past_clusters=[_membership(r) for r in rows[:50]],
        links=links,
    )

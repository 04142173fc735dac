"""API shapes for account lookup."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.core.timestamps import UtcDatetime


class AccountFacts(BaseModel):
    id: str
    created_at: UtcDatetime
    country: str | None
    org_id: str | None
    email_domain: str | None
    email_shape: str | None = Field(description="Machine-made email patterns, e.g. name+digits")
    # personal data: reviewer role and above only (null for viewers)
    email: str | None = None
    name: str | None = None
    phone: str | None = None
    signup_ip: str | None = None
    device_id: str | None = None
    user_agent: str | None = None
    attributes: dict[str, Any] | None = None


class PaymentOut(BaseModel):
    brand: str | None
    last4: str | None
    bin: str | None
    billing_country: str | None
    added_at: UtcDatetime | None
    fingerprint: str | None = Field(None, description="Reviewer role and above only")


class Usage(BaseModel):
    requests: int
    input_tokens: int
    output_tokens: int
    first_seen: UtcDatetime | None
    last_seen: UtcDatetime | None


class ObservedKind(BaseModel):
    kind: str
    distinct_values: int
    requests: int
    top: list[dict[str, Any]] = Field(
        description="Most frequent values: value (null for viewers when personal), requests, "
        "first_seen, last_seen"
    )


class Membership(BaseModel):
    cluster_id: str
    run_id: str
    run_finished_at: UtcDatetime | None
    strength: float
    score: float | None = None
    flagged: bool | None = None
    status: str | None = None


class Link(BaseModel):
    account_id: str
    cluster_id: str
    weight: float
    families: dict[str, Any]


class AccountView(BaseModel):
    account: AccountFacts
    payment_methods: list[PaymentOut]
    usage: Usage | None
    observations: list[ObservedKind]
    cluster: Membership | None = Field(description="Its cluster in the latest completed run")
    past_clusters: list[Membership] = Field(description="Earlier runs, newest first (up to 50)")
    links: list[Link] = Field(description="Its strongest stored edges in the latest run")

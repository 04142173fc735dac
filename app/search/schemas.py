"""API shapes for search (POST /v1/search): the query travels in the body, never the URL."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

SearchKind = Literal["auto", "account", "cluster", "email", "ip", "device", "card"]
#: kinds whose query is a personal value: reviewer role and above
PERSONAL_KINDS = frozenset({"email", "ip", "device", "card"})

_CONTROL = re.compile(r"[\x00-\x1f]")


def _searchable(query: str) -> str:
    """Something besides spaces, and no control characters (the pattern this replaced
    answered with itself: "String should match pattern '^[^\\x00-\\x1f]*...'")."""
    if not query.strip():
        raise ValueError("the query is empty: give an account id, cluster id, email, IP, ...")
    if _CONTROL.search(query):
        raise ValueError("the query contains a control character")
    return query


class SearchQuery(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"query": "acct_0000838"}, {"query": "a@example.com"}]},
    )

    query: Annotated[
        str,
        StringConstraints(max_length=256),
        # leading and trailing spaces are ignored by the search
        AfterValidator(_searchable),
    ] = Field(
        description="An account id (or its start), cluster id, email, IP, device id or "
        "card fingerprint",
        # what _searchable checks, published for clients (and the schema fuzz test); the
        # validator says it in words instead of quoting this
        json_schema_extra={"pattern": r"^[^\x00-\x1f]*[^\s\x00-\x1f][^\x00-\x1f]*$"},
    )
    kind: SearchKind = Field(
        "auto",
        description="What the query is; `auto` guesses: `hc_` a cluster, `@` an email, an "
        "address an IP, else an account id, then (reviewers) a device or card fingerprint",
    )
    limit: int = Field(20, ge=1, le=100)


class ClusterRef(BaseModel):
    cluster_id: str
    score: float
    flagged: bool
    status: str


class AccountHit(BaseModel):
    type: Literal["account"] = "account"
    account_id: str
    matched: str = Field(description="What matched: account, email, ip, device or card")
    created_at: str | None
    country: str | None
    cluster: ClusterRef | None = Field(description="Its cluster in the latest completed run")


class ClusterHit(BaseModel):
    type: Literal["cluster"] = "cluster"
    cluster_id: str
    score: float
    flagged: bool
    size: int
    status: str
    gone: bool
    summary: str


class SearchResult(BaseModel):
    kinds: list[str] = Field(description="The kinds the query was tried as, in order")
    items: list[AccountHit | ClusterHit]
    truncated: bool = Field(description="More matched than `limit`")

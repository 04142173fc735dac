"""Review changes a reviewer sends (PATCH /v1/clusters/{id})."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.clusters.schemas import Status


class ReviewUpdate(BaseModel):
    """Only the fields present change. ``note`` is recorded with the decision."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"status": "confirmed", "note": "same card farm as INC-2291"}]
        },
    )

    status: Status | None = None
    assignee: str | None = Field(None, max_length=128)
    notes: str | None = Field(None, max_length=20_000)
    tags: list[str] | None = Field(None, max_length=50)
    note: str | None = Field(None, max_length=5_000, description="Why; kept in the review history")

"""Review changes a reviewer sends (PATCH /v1/clusters/{id}).

Every free-text field is capped (length, and count for tags), so one request cannot grow a
cluster's detail without bound; NUL characters are refused (PostgreSQL cannot store them).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from app.clusters.schemas import Status

MAX_TAGS = 20
#: a label, not a note: control characters are refused
Tag = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")]
#: free text; newlines and tabs allowed, NUL refused
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]


def _schema(tp: Any) -> dict[str, Any]:
    return TypeAdapter(tp).json_schema()


_TAGS = _schema(Annotated[list[Tag], Field(max_length=MAX_TAGS)])


class ReviewUpdate(BaseModel):
    """Only the fields present change. ``note`` is recorded with the decision."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"status": "confirmed", "note": "same card farm as INC-2291"}]
        },
    )

    # null is refused (see below), so the published schema does not offer it; the type is
    # still Optional (not "Status | SkipJsonSchema[None]"): a union of two members reported
    # a second, confusing error ("status.none: Input should be None") for any bad value
    status: Annotated[Status | None, WithJsonSchema(_schema(Status))] = None
    assignee: Annotated[str, StringConstraints(pattern=r"^[^\x00-\x1f]*$")] | None = Field(
        None, max_length=128, description="Who works the cluster; null unassigns"
    )
    notes: Text | None = Field(None, max_length=20_000)
    tags: Annotated[list[Tag] | None, Field(max_length=MAX_TAGS), WithJsonSchema(_TAGS)] = None
    note: Text | None = Field(None, max_length=5_000, description="Why; kept in the review history")

    @field_validator("tags", mode="before")
    @classmethod
    def _distinct_tags(cls, tags: Any) -> Any:
        """A tag is a label: sent twice, it is kept once (first-seen order), before the
        count is checked (21 copies of one tag are one tag)."""
        if isinstance(tags, list) and all(isinstance(t, str) for t in tags):
            return list(dict.fromkeys(tags))
        return tags

    @model_validator(mode="after")
    def _no_null_status_or_tags(self) -> ReviewUpdate:
        for name in ("status", "tags"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null (leave it out to keep it unchanged)")
        return self

"""The input record types of the ingest contract (docs/data-format.md).

These are TypedDicts validated by pydantic-core: validation runs in Rust and yields plain
dicts, about five times faster than model instances on the request hot path. The same
types give the published JSON Schema.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    with_config,
)
from typing_extensions import TypedDict


def _timestamp_string(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 timestamp string")
    if len(value) < 20 or value[10] not in "Tt ":
        raise ValueError("must be an RFC 3339 date-time with a time zone")
    return value


Timestamp = Annotated[AwareDatetime, Field(strict=False), BeforeValidator(_timestamp_string)]
Id = Annotated[str, Field(min_length=1, max_length=128)]
ShortText = Annotated[str, Field(max_length=256)]
Text = Annotated[str, Field(max_length=1024)]
Count = Annotated[int, Field(ge=0, le=2**53)]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
IpText = Annotated[str, Field(min_length=2, max_length=45)]

_CONFIG = ConfigDict(extra="forbid", strict=True)


@with_config(_CONFIG)
class AccountRecord(TypedDict):
    """An account on the platform; ``id`` is the natural key (re-sending updates it)."""

    type: Literal["account"]
    id: Id
    created_at: Timestamp
    email: NotRequired[
        Annotated[str, Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
    ]
    name: NotRequired[ShortText]
    phone: NotRequired[Annotated[str, Field(pattern=r"^\+[1-9]\d{1,14}$")]]
    country: NotRequired[Country]
    signup_ip: NotRequired[IpText]
    user_agent: NotRequired[Text]
    device_id: NotRequired[Annotated[str, Field(min_length=1, max_length=255)]]
    org_id: NotRequired[Id]
    attributes: NotRequired[
        Annotated[
            dict[Annotated[str, Field(min_length=1, max_length=64)], Text],
            Field(max_length=64),
        ]
    ]


@with_config(_CONFIG)
class PaymentMethodRecord(TypedDict):
    """A payment method on an account, identified by the processor's fingerprint."""

    type: Literal["payment_method"]
    account_id: Id
    fingerprint: Annotated[str, Field(min_length=1, max_length=255)]
    brand: NotRequired[Annotated[str, Field(max_length=32)]]
    bin: NotRequired[Annotated[str, Field(pattern=r"^\d{6,8}$")]]
    last4: NotRequired[Annotated[str, Field(pattern=r"^\d{4}$")]]
    exp_month: NotRequired[Annotated[int, Field(ge=1, le=12)]]
    exp_year: NotRequired[Annotated[int, Field(ge=1970, le=2200)]]
    billing_name: NotRequired[ShortText]
    billing_postcode: NotRequired[Annotated[str, Field(max_length=32)]]
    billing_country: NotRequired[Country]
    added_at: NotRequired[Timestamp]


@with_config(_CONFIG)
class RequestRecord(TypedDict):
    """One API call. ``id``, when given, makes re-sending a no-op."""

    type: Literal["request"]
    id: NotRequired[Id]
    account_id: Id
    ts: Timestamp
    ip: IpText
    user_agent: NotRequired[Text]
    api_key_id: NotRequired[Id]
    model: NotRequired[Id]
    prompt: NotRequired[Annotated[str, Field(max_length=1_000_000)]]
    input_tokens: NotRequired[Count]
    output_tokens: NotRequired[Count]


Record = Annotated[AccountRecord | PaymentMethodRecord | RequestRecord, Field(discriminator="type")]
RECORDS = TypeAdapter(list[Record])


def json_schema() -> dict[str, Any]:
    """JSON Schema (2020-12) of one NDJSON line: any of the three record types."""
    schema = TypeAdapter(Record).json_schema(ref_template="#/$defs/{model}")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "hydrascope ingest record (contract v1)"
    return schema

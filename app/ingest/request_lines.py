"""Request lines decoded and checked in one compiled pass (msgspec), the ingest's fast path.

Requests are nearly every line of a real file. Parsing a line with orjson and then validating
the dict with pydantic-core cost ~4-7 us a request on the realistic benchmark file; msgspec
decodes the JSON bytes straight into a typed struct, checking types, lengths and ranges as it
goes, in ~1.5 us. :data:`RECORDS` (app.ingest.records) stays the contract's definition and
the source of every error message: a line this path does not accept (another record type, a
wrong value, a lax spelling pydantic allows) goes through the orjson + pydantic path as
before, so what is refused, and the reason given, cannot change. What this path accepts it
must accept exactly as pydantic would, with the same values: ``tests/app/test_request_lines
.py`` holds the two to that on edge cases and generated lines. Two places where msgspec alone
would differ are closed here:

- a field given as JSON ``null`` (pydantic refuses it: the contract has no nullable field):
  optional fields are typed ``str`` with ``None`` as the default for an absent field (msgspec
  checks the type of a given value, not the default's), so ``null`` fails and falls back;
- timestamps: msgspec rounds fractions beyond microseconds where pydantic truncates, so ``ts``
  is decoded as text, and a slice whose timestamps hold such a fraction is validated by
  pydantic's own :data:`Timestamp` type (:func:`request_times`); the others are converted by
  msgspec (~0.06 against ~0.6 us a timestamp), with the same results (tested).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta, Struct
from pydantic import TypeAdapter, ValidationError

from app.ingest.records import Timestamp

# The contract's constraints (app.ingest.records), spelled for msgspec.
_Id = Annotated[str, Meta(min_length=1, max_length=128)]
_Text = Annotated[str, Meta(max_length=1024)]
_Count = Annotated[int, Meta(ge=0, le=2**53)]
_IpText = Annotated[str, Meta(min_length=2, max_length=45)]
_Prompt = Annotated[str, Meta(max_length=1_000_000)]


class RequestLine(Struct, forbid_unknown_fields=True, tag_field="type", tag="request"):
    """One request record (app.ingest.records.RequestRecord). ``ts`` is the timestamp's text;
    its value comes from :func:`request_times`. An absent optional field is ``None``; a given
    one is a ``str`` (JSON ``null`` is refused, as pydantic refuses it)."""

    account_id: _Id
    ts: str
    ip: _IpText
    id: _Id = None  # type: ignore[assignment]
    user_agent: _Text = None  # type: ignore[assignment]
    api_key_id: _Id = None  # type: ignore[assignment]
    model: _Id = None  # type: ignore[assignment]
    prompt: _Prompt = None  # type: ignore[assignment]
    input_tokens: _Count = 0
    output_tokens: _Count = 0


_DECODER = msgspec.json.Decoder(RequestLine)
_TIMES = TypeAdapter(list[Timestamp])
_AWARE = list[Annotated[datetime, Meta(tz=True)]]
_SUBMICRO = re.compile(r"[.,]\d{7}")  # a fraction msgspec would round, pydantic truncates


def decode_requests(lines: list[bytes], skip: set[int]) -> tuple[list[int], list[RequestLine]]:
    """The positions and decoded records of the ``lines`` this path accepts (``skip``: lines
    already refused); every other line is for the orjson + pydantic path."""
    decode = _DECODER.decode
    if not skip:  # the usual chunk: every line a request, decoded without a Python loop
        try:
            return list(range(len(lines))), list(map(decode, lines))
        except msgspec.DecodeError:
            pass  # some line is not (a valid request): line by line (~15% more a line)
    idx: list[int] = []
    records: list[RequestLine] = []
    for i, line in enumerate(lines):
        if i in skip:
            continue
        try:
            rec = decode(line)
        except msgspec.DecodeError:  # also msgspec.ValidationError, its subclass
            continue
        idx.append(i)
        records.append(rec)
    return idx, records


def request_times(records: list[RequestLine]) -> tuple[list[datetime | None], bool]:
    """The ``ts`` of each record as pydantic's :data:`Timestamp` validates it (``None`` where it
    refuses one), and whether all were valid."""
    texts = [r.ts for r in records]
    if not _SUBMICRO.search("\n".join(texts)):
        try:
            return msgspec.convert(texts, _AWARE), True
        except msgspec.ValidationError:
            pass  # some are not valid: pydantic finds which
    try:
        return list(_TIMES.validate_python(texts)), True
    except ValidationError:
        out: list[datetime | None] = []
        for text in texts:
            try:
                out.append(_TIMES.validate_python([text])[0])
            except ValidationError:
                out.append(None)
        return out, False


def from_validated(record: dict[str, Any]) -> RequestLine:
    """The struct of a request that the pydantic path validated (its ``ts`` is a datetime,
    carried beside the struct)."""
    fields = {k: v for k, v in record.items() if k not in ("type", "ts")}
    return RequestLine(ts="", **fields)

"""The msgspec fast path for request lines accepts exactly what the contract's pydantic types
accept, with the same values; everything else still gets pydantic's error message."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.ingest.records import RECORDS
from app.ingest.request_lines import decode_requests, request_times
from app.ingest.validate import validate_chunk

FIELDS = (
    "id",
    "account_id",
    "ip",
    "user_agent",
    "api_key_id",
    "model",
    "prompt",
    "input_tokens",
    "output_tokens",
)
BASE = {"type": "request", "account_id": "a", "ts": "2026-01-01T00:00:00Z", "ip": "1.2.3.4"}


def reference(line: bytes) -> dict[str, Any] | None:
    """What the orjson + pydantic path makes of a line: the record, or None if refused."""
    try:
        obj = orjson.loads(line)
        return RECORDS.validate_python([obj])[0]  # type: ignore[no-any-return]
    except (orjson.JSONDecodeError, ValidationError):
        return None


def fast(line: bytes) -> dict[str, Any] | None:
    """What the fast path makes of a line, in the reference's shape (None: not accepted)."""
    idx, records = decode_requests([line], set())
    if not idx:
        return None
    times, ok = request_times(records)
    if not ok:
        return None
    rec = records[0]
    out = {"type": "request", "ts": times[0]}
    for name in FIELDS:
        value = getattr(rec, name)
        if value is not None:
            out[name] = value
    return out


def same_or_refused(line: bytes) -> None:
    got = fast(line)
    if got is None:
        return  # the pydantic path decides (and words the error)
    want = reference(line)
    assert want is not None, f"fast path accepted a line the contract refuses: {line!r}"
    defaults = {"input_tokens": 0, "output_tokens": 0}
    assert {**defaults, **got} == {**defaults, **want}
    assert int(got["ts"].timestamp()) == int(want["ts"].timestamp())


EDGES = [
    {"ts": "2026-01-01t00:00:00z"},
    {"ts": "2026-01-01 00:00:00Z"},
    {"ts": "2026-01-01T00:00Z"},
    {"ts": "2026-01-01T00:00:00"},
    {"ts": "2026-01-01T00:00:00.9999999Z"},  # msgspec alone rounds this up a second
    {"ts": "2026-01-01T00:00:00.123456789Z"},
    {"ts": "2026-01-01T23:59:60Z"},
    {"ts": "2026-01-01T00:00:00+24:00"},
    {"ts": "2026-01-01T00:00:00+0100"},
    {"ts": "2026-02-30T00:00:00Z"},
    {"ts": "2026-01-01T00:00:00,5Z"},
    {"ts": 1700000000},
    {"input_tokens": 5.0},
    {"input_tokens": True},
    {"input_tokens": -1},
    {"input_tokens": 2**53},
    {"input_tokens": 2**53 + 1},
    {"model": None},  # msgspec alone takes null for an optional field
    {"prompt": None},
    {"id": ""},
    {"id": "é" * 128},
    {"id": "\U0001f600" * 128},
    {"id": "\U0001f600" * 129},
    {"ip": "x"},
    {"user_agent": "u" * 1025},
    {"extra": 1},
    {"type": "account"},
    {"type": "Request"},
]


@pytest.mark.parametrize("change", EDGES, ids=lambda c: json.dumps(c)[:40])
def test_edge_cases_match_the_contract(change: dict[str, Any]) -> None:
    same_or_refused(json.dumps({**BASE, **change}).encode())


def test_null_and_long_fractions_keep_their_old_outcome() -> None:
    chunk = validate_chunk(
        [
            json.dumps({**BASE, "model": None}).encode(),
            json.dumps({**BASE, "ts": "2026-01-01T00:00:00.9999999Z"}).encode(),
            b'{"type":"request","account_id":"a","ip":"1.2.3.4","ts":"2026-01-01T00:00:00Z",'
            b'"prompt":"\\ud800"}',
        ],
        7,
    )
    assert [(e.line, e.field) for e in chunk.errors] == [(7, "model"), (9, "(line)")]
    assert chunk.request_lines == [8]
    assert chunk.request_times[0].timestamp() == 1767225600.999999  # truncated, as pydantic


_text = st.one_of(
    st.text(max_size=6),
    st.text(min_size=120, max_size=140),
    st.sampled_from(["", "1.2.3.4", "::1", "2026-01-01T00:00:00Z", "é" * 128, "😀" * 129]),
)
_value = st.one_of(
    _text,
    st.integers(min_value=-3, max_value=2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
)
_ts = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
    st.from_regex(
        r"\A20\d\d-[01]\d-[0-3]\d[Tt ][0-2]\d:[0-6]\d:[0-6]\d(\.\d{1,9})?([Zz]|[+-]\d\d:?\d\d)?\Z"
    ),
    _value,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    changes=st.dictionaries(st.sampled_from([*FIELDS, "type", "extra"]), _value, max_size=4),
    ts=_ts,
    drop=st.sets(st.sampled_from(["account_id", "ip", "ts"]), max_size=1),
)
def test_generated_lines_match_the_contract(
    changes: dict[str, Any], ts: Any, drop: set[str]
) -> None:
    record = {**BASE, "ts": ts, **changes}
    for name in drop:
        record.pop(name, None)
    same_or_refused(json.dumps(record).encode())


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.just(json.dumps(BASE)),
            st.just(json.dumps({**BASE, "model": None})),
            st.just(json.dumps({**BASE, "ts": "2026-13-01T00:00:00Z"})),
            st.just(json.dumps({"type": "account", "id": "a", "created_at": BASE["ts"]})),
            st.just("not json"),
            st.just("[1]"),
            st.just(json.dumps({**BASE, "prompt": "4111 1111 1111 1111"})),
        ),
        max_size=12,
    )
)
def test_mixed_chunks_keep_line_order_and_errors(lines: list[str]) -> None:
    chunk = validate_chunk([line.encode() for line in lines], 1)
    want_requests = [
        i + 1
        for i, line in enumerate(lines)
        if (r := reference(line.encode())) is not None
        and r["type"] == "request"
        and "4111" not in line
    ]
    assert chunk.request_lines == want_requests
    assert len(chunk.requests) == len(chunk.request_times) == len(want_requests)
    assert chunk.request_raw == [lines[i - 1].encode() for i in want_requests]
    refused = {e.line for e in chunk.errors}
    accepted = set(want_requests) | set(chunk.account_lines)
    assert refused | accepted == set(range(1, len(lines) + 1))
    assert not refused & accepted
    assert [e.line for e in chunk.errors] == sorted(e.line for e in chunk.errors)


def test_fast_path_knows_every_request_field() -> None:
    from app.ingest.records import RequestRecord
    from app.ingest.request_lines import RequestLine

    assert set(RequestLine.__struct_fields__) == set(RequestRecord.__annotations__) - {"type"}


def test_a_repeated_key_is_read_as_the_reference_reads_it() -> None:
    # orjson keeps the last of repeated keys; a line whose record type changes on the way
    # must not be taken for a request by the fast path
    ts = '"ts":"2026-01-01T00:00:00Z"'
    lines = [
        b'{"type":"request","type":"account","account_id":"a","ip":"1.2.3.4",' + ts.encode() + b"}",
        b'{"type":"account","type":"request","account_id":"a","ip":"1.2.3.4",' + ts.encode() + b"}",
        b'{"type":"request","account_id":"a","ip":"9.9.9.9","ip":"1.2.3.4",' + ts.encode() + b"}",
    ]
    chunk = validate_chunk(lines, 1)
    assert chunk.request_lines == [2, 3]
    assert [r.ip for r in chunk.requests] == ["1.2.3.4", "1.2.3.4"]
    assert {e.line for e in chunk.errors} == {1}
    for line in lines:
        same_or_refused(line)

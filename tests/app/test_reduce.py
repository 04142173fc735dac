"""The request reducer's keys: what each request's IP, range and optional fields become."""

from __future__ import annotations

import orjson
import pytest

from app.core.hashing import Hasher
from app.ingest import reduce
from app.ingest.reduce import RequestReducer
from app.ingest.request_lines import decode_requests, request_times
from graph.signals.network import parse_ip
from graph.types import Kind

SECRET = b"k" * 32


def columns(reducer: RequestReducer, lines: list[dict[str, object]]) -> reduce.RequestColumns:
    raw = [orjson.dumps({"type": "request", "ts": "2026-03-01T10:00:00Z", **d}) for d in lines]
    idx, records = decode_requests(raw, set())
    assert idx == list(range(len(raw)))
    times, ok = request_times(records)
    assert ok
    return reducer.columns(records, times, raw, [i + 1 for i in idx])  # type: ignore[arg-type]


def expected(h: Hasher, ip: str) -> tuple[int, int]:
    parsed = parse_ip(ip)
    assert parsed is not None
    return h("ip", parsed[0]), h("ip_range", parsed[1])


IPS = ["10.0.0.1", "10.0.0.2", "2001:db8::1", "10.0.0.1", "192.168.7.9"]


@pytest.mark.parametrize("limit", [1 << 17, 2])
def test_ip_keys_are_the_keyed_address_and_range_across_batches(
    monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """Each request gets its address's and range's keys, batch after batch, also when the
    reducer's cache is cleared between them (limit 2); a value is reported as new once
    while it is remembered."""
    monkeypatch.setattr(reduce, "_CACHE_LIMIT", limit)
    h = Hasher(SECRET)
    reducer = RequestReducer(h)
    for batch in (IPS, IPS[::-1], ["172.16.0.1", *IPS]):
        cols = columns(reducer, [{"account_id": "a", "ip": ip} for ip in batch])
        want = [expected(h, ip) for ip in batch]
        assert cols.values[Kind.IP].tolist() == [w[0] for w in want]
        assert cols.values[Kind.IP_RANGE].tolist() == [w[1] for w in want]
        assert not cols.errors
    first = columns(RequestReducer(h), [{"account_id": "a", "ip": ip} for ip in IPS])
    reported = [(k, v) for k, _, v in first.new_values if k in (Kind.IP, Kind.IP_RANGE)]
    distinct = ["10.0.0.1", "10.0.0.2", "2001:db8::1", "192.168.7.9"]
    parsed = [p for p in map(parse_ip, distinct) if p]
    # each address once, and each range once (10.0.0.1 and 10.0.0.2 share theirs)
    assert sorted(reported) == sorted(
        [(int(Kind.IP), p[0]) for p in parsed]
        + [(int(Kind.IP_RANGE), r) for r in {p[1] for p in parsed}]
    )


def test_an_invalid_ip_drops_its_request_with_an_error_and_keeps_the_others() -> None:
    h = Hasher(SECRET)
    reducer = RequestReducer(h)
    batch = ["10.0.0.1", "300.1.1.1", "10.0.0.2", "300.1.1.1", "10.0.0.1"]
    cols = columns(reducer, [{"account_id": f"a{i}", "ip": ip} for i, ip in enumerate(batch)])
    assert [(e.line, e.field) for e in cols.errors] == [(2, "ip"), (4, "ip")]
    assert "IPv4 or IPv6" in cols.errors[0].reason
    assert cols.account.tolist() == ["a0", "a2", "a4"]
    assert cols.values[Kind.IP].tolist() == [expected(h, ip)[0] for ip in batch[::2]]
    # the invalid IP stays refused in the next batch (remembered as invalid)
    again = columns(reducer, [{"account_id": "b", "ip": "300.1.1.1"}])
    assert len(again) == 0 and [e.field for e in again.errors] == ["ip"]


def test_absent_optional_fields_are_none_and_given_ones_kept() -> None:
    reducer = RequestReducer(Hasher(SECRET))
    cols = columns(
        reducer,
        [
            {"account_id": "a", "ip": "10.0.0.1"},
            {"account_id": "a", "ip": "10.0.0.1", "prompt": "Hello there", "model": "m1"},
        ],
    )
    assert cols.prompts == [None, "Hello there"]
    assert cols.values[Kind.MODEL][0] == 0 and cols.values[Kind.MODEL][1] != 0
    assert cols.values[Kind.USER_AGENT].tolist() == [0, 0]
    assert cols.values[Kind.TEMPLATE][0] == 0 and cols.values[Kind.TEMPLATE][1] != 0

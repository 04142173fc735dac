"""The card-number scan: the fast byte scan finds exactly what the plain pattern finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.ingest.cards import _CANDIDATE_BYTES, _is_pan, blob_pan_offsets


def reference_offsets(blob: bytes) -> list[int]:
    """The definition: every Luhn-valid 13-19 digit candidate, searched over the whole blob."""
    return [m.start() for m in _CANDIDATE_BYTES.finditer(blob) if _is_pan(m.group().decode())]


PIECES = st.sampled_from(
    [b"4111", b"1111", b" ", b"-", b"0", b"7", b'"', b"a", b"\n", b"2026-01-05", b"  ", b"5"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=40).map(b"".join))
def test_fast_scan_matches_the_pattern(blob: bytes) -> None:
    assert blob_pan_offsets(blob) == reference_offsets(blob)


def test_known_layouts() -> None:
    for card in (
        b"4111111111111111",
        b"4111 1111 1111 1111",
        b"4111-1111-1111-1111",
        b"378282246310005",
        b"3782 822463 10005",
    ):
        blob = b'{"note":"pay ' + card + b' now"}'
        assert blob_pan_offsets(blob) == [13], card
    assert blob_pan_offsets(b"order 4111111111111112 shipped") == []  # fails Luhn
    assert blob_pan_offsets(b"x" + b" " * 40 + b"12") == []  # long run, too few digits

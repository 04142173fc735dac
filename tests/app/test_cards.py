"""Card numbers: every way of writing one is refused, identifiers that only look long are not,
and the fast byte scan finds exactly what the plain pattern finds."""

from __future__ import annotations

import os
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ingest import cards
from app.ingest.cards import (
    CARD_KEY,
    _candidate_pans,
    blob_pan_offsets,
    is_pan,
    needs_parsed_check,
    pan_field,
    text_has_pan,
)


def reference_offsets(blob: bytes) -> list[int]:
    """The definition: every card-number candidate, searched over the whole (unescaped) blob."""
    scan = blob.replace(b"\\t", b"  ").replace(b"\\n", b"  ").replace(b"\\r", b"  ")
    return _candidate_pans(scan)


PIECES = st.sampled_from(
    [
        *(b"4111", b"1111", b" ", b"-", b"0", b"7", b'"', b"a", b"\n", b"2026-01-05", b"  "),
        *(b"5", b".", b"/", b",", b"_", b"\\t", b"378282", b"246310005", b" - "),
        *(b"\\n", b"\\r", b"\\", b"n", b"t", b"X", b"Y", b"\\\\n"),
    ]
)


def compiled_or_skip() -> None:
    if cards._cardscan is None and os.environ.get("HYDRASCOPE_REQUIRE_KERNELS") != "1":
        pytest.skip("app.ingest._cardscan was not built (no C compiler at install)")
    assert cards._cardscan is not None, "HYDRASCOPE_REQUIRE_KERNELS: the build fell back"


@pytest.mark.parametrize("path", ["compiled", "python"])
@settings(max_examples=1500, deadline=None)
@given(blob=st.lists(PIECES, max_size=40).map(b"".join))
def test_fast_scan_matches_the_pattern(path: str, blob: bytes) -> None:
    if path == "compiled":
        compiled_or_skip()
    with mock.patch.object(cards, "_cardscan", None if path == "python" else cards._cardscan):
        assert blob_pan_offsets(blob) == reference_offsets(blob)


@settings(max_examples=1500, deadline=None)
@given(blob=st.lists(PIECES, max_size=60).map(b"".join))
def test_compiled_scan_gives_the_runs_python_gives(blob: bytes) -> None:
    compiled_or_skip()
    assert cards.blob_pan_runs(blob) == cards._pan_runs(blob)


def test_compiled_scan_refuses_text() -> None:
    compiled_or_skip()
    with pytest.raises(TypeError):
        cards._cardscan.pan_runs("4111 1111 1111 1111", 13, 16)  # type: ignore[arg-type]


WRITTEN = {
    "plain": "4111111111111111",
    "spaces": "4111 1111 1111 1111",
    "dashes": "4111-1111-1111-1111",
    "amex groups": "3782 822463 10005",
    "digits apart": "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
    "double spaces": "4111  1111  1111  1111",
    "spaced dashes": "4111 - 1111 - 1111 - 1111",
    "dots": "4111.1111.1111.1111",
    "slashes": "4111/1111/1111/1111",
    "underscores": "4111_1111_1111_1111",
    "commas": "4111,1111,1111,1111",
    "en dash": "4111\u20131111\u20131111\u20131111",
    "tab": "4111\t1111\t1111\t1111",
    "newline": "4111\n1111\n1111\n1111",
    "no-break space": "4111\u00a01111\u00a01111\u00a01111",
    "zero-width space": "4111\u200b1111\u200b1111\u200b1111",
    "full-width digits": "\uff14" + "\uff11" * 15,
    "Arabic-Indic digits": "\u0664" + "\u0661" * 15,
    "Devanagari digits": "\u096a\u0967\u0967\u0967" + " \u0967\u0967\u0967\u0967" * 3,
}


@pytest.mark.parametrize("name", sorted(WRITTEN))
def test_every_way_of_writing_a_card_is_found(name: str) -> None:
    text = WRITTEN[name]
    assert text_has_pan(text), name
    import orjson

    line = orjson.dumps({"type": "request", "prompt": f"pay with {text} now"})
    found_raw = bool(blob_pan_offsets(line))
    assert found_raw or needs_parsed_check(line), name
    assert pan_field(line) == "prompt", name


@pytest.mark.parametrize(
    "text",
    [
        "1234567890123456789",  # a snowflake id: Luhn-valid, but no issuer has 19 digits at 1
        "1152921504606846976",
        "acct_7634586792474",  # 13 digits, no issuer starts with 7
        "4111111111111112",  # fails Luhn
        "2026-01-05 14:00:03",
        "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12",
        "order 12 of 4111 items",
    ],
)
def test_identifiers_and_numbers_are_not_cards(text: str) -> None:
    assert not text_has_pan(text)


def test_snowflake_ids_pass_luhn_yet_are_not_cards() -> None:
    from app.ingest.cards import luhn_ok

    ids = [str(1_100_000_000_000_000_000 + i) for i in range(200)]
    luhn = [i for i in ids if luhn_ok(i)]
    assert len(luhn) == 20 and not any(is_pan(i) for i in luhn)


def test_a_card_number_key_is_not_echoed() -> None:
    line = b'{"type": "account", "id": "a", "attributes": {"4111 1111 1111 1111": "x"}}'
    assert pan_field(line) == f"attributes.{CARD_KEY}"
    assert "4111" not in pan_field(line)


def test_ingest_keeps_snowflake_ids_and_refuses_cards_in_any_field(ctx: object) -> None:
    import io

    from app.ingest.service import make_ingestor
    from tests.helpers import account, ndjson, request

    snowflakes = [account(str(1_100_000_000_000_000_000 + i)) for i in range(400)]
    fields = ["name", "email", "device_id", "user_agent", "org_id"]
    cards = [
        account(f"c{i}", **{field: f"x {WRITTEN[name]} y"})
        for i, (field, name) in enumerate(
            (f, n) for f in fields for n in ("no-break space", "full-width digits", "commas")
        )
    ]
    cards.append(request("acct_c0", prompt=f"my card: {WRITTEN['zero-width space']}"))
    summary = make_ingestor(ctx).ingest(io.BytesIO(ndjson(*snowflakes, *cards)))  # type: ignore[arg-type]
    assert summary.accepted["account"] == 400, "every snowflake id is kept"
    assert summary.rejected == len(cards)
    assert {e.field for e in summary.errors} == {*fields, "prompt"}


# lines of a block: requests with and without card numbers (plain, behind a \u escape, in
# non-ASCII digits), surrounding whitespace, blank lines, an escaped NUL, not JSON
BLOCK_LINES = st.sampled_from(
    [
        b'{"type": "request", "account_id": "a", "ts": "2026-01-05T10:00:00Z", "ip": "10.0.0.1"}',
        b'{"type": "request", "account_id": "a", "ts": "2026-01-05T10:00:00Z", "ip": "10.0.0.1",'
        b' "prompt": "card 4111 1111 1111 1111 ok"}',
        b'{"type": "request", "account_id": "b", "ts": "2026-01-05T10:00:00Z", "ip": "10.0.0.2",'
        b' "prompt": "\\u0034111111111111111"}',
        '{"type": "request", "account_id": "c", "ts": "2026-01-05T10:00:00Z", "ip": "10.0.0.3",'
        ' "user_agent": "\uff14111111111111111"}'.encode(),
        b'  {"type": "request", "account_id": "d", "ts": "2026-01-05T10:00:00Z", "ip": "10.0.0.4",'
        b' "prompt": "4111111111111111"}\r',
        b"",
        b"   ",
        b'{"type": "request", "account_id": "e", "ts": "2026-01-05T10:00:00Z", "ip": "10.0.0.5",'
        b' "prompt": "x\\u0000 4111111111111111"}',
        b"not json 4111111111111111",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(BLOCK_LINES, min_size=1, max_size=14), st.integers(1, 5), st.booleans())
def test_a_block_scanned_once_refuses_what_each_chunk_scanned_alone_refuses(
    lines: list[bytes], slice_lines: int, newline_at_end: bool
) -> None:
    # workers scan a block's bytes for card numbers once and hand each chunk its part; a
    # chunk whose lines differ from the block's (stripped, blank) scans itself
    from app.ingest import prepare
    from app.ingest.reader import split_lines

    block = b"\n".join(lines) + (b"\n" if newline_at_end else b"")
    preparer = prepare.Preparer(b"k" * 32, 600, 5)
    with mock.patch.object(prepare, "SLICE_LINES", slice_lines):
        once = preparer(7, block)
        alone = preparer.lines(7, split_lines(block))
    assert once.errors == alone.errors
    assert once.read == alone.read and (once.dedupe == alone.dedupe).all()

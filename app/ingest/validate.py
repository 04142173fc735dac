"""Parse and validate a chunk of NDJSON lines, keeping every good record.

Request lines are decoded and checked by msgspec in one pass (app.ingest.request_lines); the
rest (accounts, payment methods, any line that path does not accept) are parsed with orjson
and validated in one pydantic-core call, which also gives every error message; only when that
call finds errors are the failing records set aside and the rest validated again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from operator import is_
from typing import Any, cast

import numpy as np
import orjson
from pydantic import ValidationError

from app.ingest.cards import (
    blob_pan_offsets,
    may_hold_escapes,
    needs_parsed_check,
    pan_field,
    parsed_pan_field,
)
from app.ingest.records import RECORDS
from app.ingest.request_lines import RequestLine, decode_requests, from_validated, request_times

PAN_REASON = "contains a payment card number; the record was refused and the value not stored"


@dataclass(frozen=True, slots=True)
class RecordError:
    line: int
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "reason": self.reason}


@dataclass(slots=True)
class ValidChunk:
    """Valid records of a chunk, by type, with their line numbers and raw bytes (requests:
    their timestamps in ``request_times``, in the same order)."""

    accounts: list[dict[str, Any]] = field(default_factory=list)
    account_lines: list[int] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    payment_lines: list[int] = field(default_factory=list)
    requests: list[RequestLine] = field(default_factory=list)
    request_times: list[datetime] = field(default_factory=list)
    request_lines: list[int] = field(default_factory=list)
    request_raw: list[bytes] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    read: int = 0


def _error_field(loc: tuple[Any, ...]) -> str:
    # loc is (index, record-type tag, field, ...) for a tagged union member.
    rest = [str(p) for p in loc[2:]] if len(loc) > 2 else []
    return ".".join(rest) if rest else "type"


_REASONS = {
    "extra_forbidden": "unknown field (not part of the ingest contract)",
    "missing": "required field is missing",
    "union_tag_not_found": "missing record type: 'type' must be account, payment_method or request",
}


def _reason(err: Any) -> str:
    if err["type"] == "union_tag_invalid":
        return "unknown record type: 'type' must be account, payment_method or request"
    return _REASONS.get(err["type"], str(err["msg"]).removeprefix("Value error, "))


# An escaped NUL (\u0000) that is not itself an escaped backslash followed by "u0000".
_ESCAPED_NUL = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def _without_nul(line: bytes) -> bytes:
    r"""The line with every NUL character in its strings replaced by U+FFFD.

    PostgreSQL text cannot hold NUL: one such character made the whole transaction fail and
    every valid record of it was lost, which let a network keep its own prompts out of the
    logs. Replacing it keeps the record (and its evidence) and stores the same on both
    databases. Raw NUL bytes are not JSON and are refused as malformed lines.

    >>> _without_nul(rb'{"a": "x\u0000y", "b": "\\u0000"}')
    b'{"a": "x\\ufffdy", "b": "\\\\u0000"}'
    """
    return _ESCAPED_NUL.sub(rb"\1\\ufffd", line)


@dataclass(frozen=True, slots=True)
class BlockScan:
    """The card-number scan of a whole block of lines, its bytes as read (the lines joined by
    newlines), shared by the chunks validated from it (:func:`scan_block`)."""

    found: dict[int, str]  # line index in the block -> the field holding a card number
    check_parsed: bool  # a line may hide one behind a \u escape or in non-ASCII text


def _scanned(lines: list[bytes], blob: bytes) -> BlockScan:
    """The byte scan of ``blob`` (``lines`` joined by newlines)."""
    return BlockScan(_found_in_blob(lines, blob), not blob.isascii() or may_hold_escapes(blob))


def scan_block(block: bytes, lines: list[bytes]) -> BlockScan | None:
    """Scan ``block`` (``lines`` are its lines) for card numbers once, instead of joining the
    lines of each chunk into a blob again to scan that (a worker's CPU for 300,000 lines of
    the realistic benchmark file, runs in turns: 3.57-3.67 s against 3.59-3.77 s). A card
    number's run of digits and separators never crosses a newline, so the block's scan finds
    what the chunks' scans find; a chunk uses it only when its lines are exactly the block's
    bytes (nothing stripped, no blank line); where some chunk's would not be (an escaped NUL
    to replace, CRLF line ends, a blank line), none does and the block is not scanned
    (None)."""
    if b"\\u0000" in block or b"\r" in block or b"\n\n" in block or block[:1] == b"\n":
        # an escaped NUL is replaced, CRLF line ends stripped and blank lines dropped before
        # a chunk is scanned: its lines are not the block's, so each chunk scans itself
        return None
    return _scanned(lines, block)


def validate_chunk(
    lines: list[bytes], first_line: int, scan: BlockScan | None = None, at: int = 0
) -> ValidChunk:
    """Validate ``lines`` (line ``first_line`` is the first); blank lines are skipped. ``scan``:
    the card-number scan of the block whose lines ``at`` onwards these are."""
    out = ValidChunk()
    stripped = [raw.strip() for raw in lines]
    if all(stripped):  # the usual case: no blank line
        kept = stripped
        numbers = list(range(first_line, first_line + len(stripped)))
    else:
        numbers = [first_line + i for i, b in enumerate(stripped) if b]
        kept = [b for b in stripped if b]
    out.read = len(kept)
    if not kept:
        return out
    if scan is not None and len(kept) == len(lines) and all(map(is_, kept, lines)):
        found = {i - at: f for i, f in scan.found.items() if at <= i < at + len(kept)}
        scan = BlockScan(found, scan.check_parsed)  # this chunk's part of the block's scan
    else:
        blob = b"\n".join(kept)  # one search over the chunk instead of one a line
        if b"\\u0000" in blob:
            kept = [_without_nul(b) for b in kept]
            blob = b"\n".join(kept)
        scan = _scanned(kept, blob)
    refused = _refuse(kept, scan, numbers, out.errors)

    fast_idx, fast = decode_requests(kept, refused)
    times, all_valid = request_times(fast)
    if not all_valid:  # a timestamp pydantic refuses: that line takes the other path
        ok = [t is not None for t in times]
        fast_idx = [i for i, k in zip(fast_idx, ok, strict=True) if k]
        fast = [r for r, k in zip(fast, ok, strict=True) if k]
        times = [t for t in times if t is not None]
    if len(fast_idx) == len(kept):
        out.requests, out.request_times = fast, cast(list[datetime], times)
        out.request_lines = numbers
        out.request_raw = kept
        return out
    taken = refused.union(fast_idx)
    rest = [i for i in range(len(kept)) if i not in taken]
    slow = _validate_lines(kept, rest, numbers, out)
    if not slow:
        order = fast_idx
        requests = list(zip(fast, times, strict=True))
    else:  # requests of both paths, back in line order
        both = sorted([*zip(fast_idx, fast, times, strict=True), *slow], key=lambda item: item[0])
        order = [i for i, _, _ in both]
        requests = [(rec, ts) for _, rec, ts in both]
    out.requests = [rec for rec, _ in requests]
    out.request_times = cast(list[datetime], [ts for _, ts in requests])
    out.request_lines = [numbers[i] for i in order]
    out.request_raw = [kept[i] for i in order]
    out.errors.sort(key=lambda e: e.line)
    return out


def _validate_lines(
    kept: list[bytes], rest: list[int], numbers: list[int], out: ValidChunk
) -> list[tuple[int, RequestLine, datetime]]:
    """Parse (orjson) and validate (pydantic) the lines at positions ``rest``: accounts and
    payment methods go to ``out``, errors to ``out.errors``; the valid requests are returned
    with their positions."""
    objs: list[Any] = []
    idx: list[int] = []
    try:
        objs = [orjson.loads(kept[i]) for i in rest]
        idx = list(rest)
    except orjson.JSONDecodeError:
        objs, idx = [], []
        for i in rest:
            try:
                objs.append(orjson.loads(kept[i]))
                idx.append(i)
            except orjson.JSONDecodeError as exc:
                out.errors.append(RecordError(numbers[i], "(line)", f"malformed JSON: {exc.msg}"))

    good_objs: list[dict[str, Any]] = []
    good_idx: list[int] = []
    for o, i in zip(objs, idx, strict=True):
        if isinstance(o, dict):
            good_objs.append(o)
            good_idx.append(i)
        else:
            out.errors.append(RecordError(numbers[i], "(line)", "a record must be a JSON object"))

    records, good_idx = _validate(good_objs, good_idx, numbers, out.errors)
    requests: list[tuple[int, RequestLine, datetime]] = []
    for rec, i in zip(records, good_idx, strict=True):
        kind = rec["type"]
        if kind == "request":
            requests.append((i, from_validated(rec), rec["ts"]))
        elif kind == "account":
            out.accounts.append(rec)
            out.account_lines.append(numbers[i])
        else:
            out.payments.append(rec)
            out.payment_lines.append(numbers[i])
    return requests


def _found_in_blob(lines: list[bytes], blob: bytes) -> dict[int, str]:
    """The lines (by index) in which the byte scan of ``blob`` (the lines joined by newlines)
    finds a card number, and the field holding each."""
    offsets = blob_pan_offsets(blob)
    found: dict[int, str] = {}
    if offsets:
        starts = np.cumsum([0] + [len(b) + 1 for b in lines[:-1]])
        for off in offsets:
            i = int(np.searchsorted(starts, off, side="right")) - 1
            found.setdefault(i, pan_field(lines[i]))
    return found


def _refuse(
    kept: list[bytes], scan: BlockScan, numbers: list[int], errors: list[RecordError]
) -> set[int]:
    """Refuse the lines with a card number: those the byte ``scan`` found, and, where it says
    to check parsed text, those that hold one behind an escape or in non-ASCII text."""
    refused = dict(scan.found)
    if scan.check_parsed:
        # line by line: an ASCII line without escapes is done at once, and a regex pass over
        # the whole block would cost more than the lines that need it
        for i, line in enumerate(kept):
            if i not in refused and needs_parsed_check(line):
                field_name = parsed_pan_field(line)
                if field_name is not None:
                    refused[i] = field_name
    for i in sorted(refused):
        errors.append(RecordError(numbers[i], refused[i], PAN_REASON))
    return set(refused)


def _validate(
    objs: list[dict[str, Any]], idx: list[int], numbers: list[int], errors: list[RecordError]
) -> tuple[list[dict[str, Any]], list[int]]:
    for _ in range(3):
        try:
            return cast(list[dict[str, Any]], RECORDS.validate_python(objs)), idx
        except ValidationError as exc:
            bad: dict[int, list[RecordError]] = {}
            for err in exc.errors(include_url=False, include_input=False):
                pos = int(err["loc"][0])
                bad.setdefault(pos, []).append(
                    RecordError(numbers[idx[pos]], _error_field(err["loc"]), _reason(err))
                )
            for items in bad.values():
                errors.extend(items)
            objs = [o for j, o in enumerate(objs) if j not in bad]
            idx = [i for j, i in enumerate(idx) if j not in bad]
    # Fall back to one record at a time; reached only with pathological inputs.
    records: list[dict[str, Any]] = []
    kept_idx: list[int] = []
    for o, i in zip(objs, idx, strict=True):
        try:
            records.extend(cast(list[dict[str, Any]], RECORDS.validate_python([o])))
            kept_idx.append(i)
        except ValidationError as exc:
            for err in exc.errors(include_url=False, include_input=False):
                errors.append(RecordError(numbers[i], _error_field(err["loc"]), _reason(err)))
    return records, kept_idx

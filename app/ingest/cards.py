"""Detection of payment card numbers (PANs) anywhere in a record.

The raw line is scanned before it is parsed, so a card number is refused even in a field
that later validation would reject, and the value itself is never echoed.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

# A cheap pre-filter (runs of digits, spaces and dashes) and the exact candidate pattern.
_RUN_BYTES = re.compile(rb"[0-9][0-9 -]{11,}[0-9]")
_CANDIDATE_BYTES = re.compile(rb"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])")
_CANDIDATE_TEXT = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])")


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a digit string.

    >>> luhn_ok("4111111111111111"), luhn_ok("4111111111111112")
    (True, False)
    """
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _is_pan(candidate: str) -> bool:
    digits = candidate.replace(" ", "").replace("-", "")
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


def text_has_pan(text: str) -> bool:
    return any(_is_pan(m.group()) for m in _CANDIDATE_TEXT.finditer(text))


def blob_pan_offsets(blob: bytes) -> list[int]:
    """Byte offsets in ``blob`` where a Luhn-valid 13-19 digit number starts."""
    out: list[int] = []
    for run in _RUN_BYTES.finditer(blob):
        start = run.start()
        segment = blob[max(0, start - 1) : run.end() + 1]
        out.extend(
            start - 1 + m.start() if start else m.start()
            for m in _CANDIDATE_BYTES.finditer(segment)
            if _is_pan(m.group().decode("ascii"))
        )
    return out


def pan_field(line: bytes) -> str:
    """Name the field of a JSON line that holds a card number (``(line)`` if unparseable)."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return "(line)"
    found = _find(obj, "")
    return found or "(line)"


def _find(value: Any, path: str) -> str | None:
    if isinstance(value, dict):
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            if text_has_pan(str(key)):
                return sub
            hit = _find(item, sub)
            if hit:
                return hit
        return None
    if isinstance(value, list):
        for i, item in enumerate(value):
            hit = _find(item, f"{path}[{i}]")
            if hit:
                return hit
        return None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return path if text_has_pan(str(value)) else None
    return None

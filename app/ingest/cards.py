"""Detection of payment card numbers (PANs) anywhere in a record.

The raw line is scanned before it is parsed, so a card number is refused even in a field
that later validation would reject, and the value itself is never echoed.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

# The exact candidate pattern (a maximal run of digits, spaces and dashes is searched).
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


# bytes.translate maps digits, spaces and dashes to b"1" and everything else to b"0": a
# card number needs 13 such bytes in a row, which bytes.find spots at memchr speed (the
# character-class regex this replaces cost more per line than parsing the JSON).
_RUN_TABLE = bytes(49 if chr(b) in "0123456789 -" else 48 for b in range(256))
_RUN_13 = b"1" * 13
_RUN_END = re.compile(rb"[^1]")
# A JSON escape of a digit, space or dash (\u0034, \u0020, \u002d) hides a number from the
# byte scan; lines that have one are also checked after parsing.
_ESCAPED = re.compile(rb"\\u00(?:3[0-9]|2[0dD])")


def blob_pan_offsets(blob: bytes) -> list[int]:
    """Byte offsets in ``blob`` where a Luhn-valid 13-19 digit number starts."""
    out: list[int] = []
    marks = blob.translate(_RUN_TABLE)
    pos = marks.find(_RUN_13)
    while pos >= 0:
        stop = _RUN_END.search(marks, pos)
        end = stop.start() if stop else len(marks)
        segment = blob[pos:end]  # a maximal run of digits, spaces and dashes
        if len(segment) - segment.count(b" ") - segment.count(b"-") >= 13:
            out.extend(
                pos + m.start()
                for m in _CANDIDATE_BYTES.finditer(segment)
                if _is_pan(m.group().decode("ascii"))
            )
        pos = marks.find(_RUN_13, end)
    return out


def has_escaped_digits(data: bytes) -> bool:
    return _ESCAPED.search(data) is not None


def parsed_pan_field(line: bytes) -> str | None:
    """The field of a JSON line whose parsed value holds a card number (JSON escapes
    decoded), or None (also when the line does not parse)."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return _find(obj, "")


def pan_field(line: bytes) -> str:
    """Name the field of a JSON line that holds a card number (``(line)`` if unparseable)."""
    return parsed_pan_field(line) or "(line)"


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

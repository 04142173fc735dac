"""Detection of payment card numbers (PANs) anywhere in a record.

The raw line is scanned before it is parsed, so a card number is refused even in a field
that later validation would reject, and the value itself is never echoed.

What counts as a card number: 13-19 digits that pass the Luhn check **and** start with an
issuer prefix (IIN) whose card lengths include that length (Visa 4: 13, 16, 19; Mastercard
51-55 and 2221-2720: 16; Amex 34, 37: 15; ...; see :data:`ISSUERS`). Luhn alone passes one
number in ten, so long numeric ids (snowflake ids, ``acct_7634586792474``) were refused as
cards; an identifier is not a card number because it is long.

How it may be written: plain; every digit apart by one space or dash; or in groups of 2-6
digits with the same 1-3 character separator between them (spaces, dashes, dots, slashes,
underscores, commas, tabs, newlines, and any Unicode space or dash). Unicode digits (full-width,
Arabic-Indic, any decimal digit) count as digits, and invisible characters (zero-width space,
soft hyphen) are ignored.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any

import orjson

try:  # compiled at install when a C compiler is there (setup.py); same results either way
    from app.ingest import _cardscan
except ImportError:  # no C compiler at install: the Python scan below
    _cardscan = None  # type: ignore[assignment]

#: (first digits, last digits of the prefix range, card lengths), by issuer.
ISSUERS: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("4", "4", (13, 16, 19)),  # Visa
    ("51", "55", (16,)),  # Mastercard
    ("2221", "2720", (16,)),  # Mastercard 2-series
    ("34", "34", (15,)),  # American Express
    ("37", "37", (15,)),
    ("300", "305", (14, 16, 17, 18, 19)),  # Diners Club
    ("36", "36", (14, 15, 16, 17, 18, 19)),
    ("38", "39", (16, 17, 18, 19)),
    ("6011", "6011", (16, 17, 18, 19)),  # Discover
    ("644", "649", (16, 17, 18, 19)),
    ("65", "65", (16, 17, 18, 19)),
    ("622126", "622925", (16, 17, 18, 19)),
    ("62", "62", (16, 17, 18, 19)),  # UnionPay
    ("81", "82", (16, 17, 18, 19)),  # UnionPay, RuPay
    ("3528", "3589", (16, 17, 18, 19)),  # JCB
    ("50", "50", tuple(range(12, 20))),  # Maestro
    ("56", "58", tuple(range(12, 20))),
    ("60", "60", tuple(range(12, 20))),  # Maestro, RuPay
    ("63", "63", tuple(range(12, 20))),
    ("67", "67", tuple(range(12, 20))),
    ("2200", "2204", (16, 17, 18, 19)),  # Mir
    ("9792", "9792", (16,)),  # Troy
    ("1", "1", (15,)),  # UATP
)

# A candidate in ASCII-folded text: plain, every digit apart, or separated groups.
_CANDIDATE = re.compile(
    rb"(?<![0-9])(?:[0-9]{13,19}"
    rb"|[0-9](?:[ -][0-9]){12,18}"
    rb"|[0-9]{2,6}(?P<sep>[ \-./_,]{1,3})[0-9]{2,6}(?:(?P=sep)[0-9]{2,6}){1,7})(?![0-9])"
)
_NOT_DIGIT = re.compile(rb"[^0-9]")


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


def issuer_fits(digits: str) -> bool:
    """Whether some issuer's prefix starts ``digits`` with a card length of ``len(digits)``.

    >>> issuer_fits("4111111111111111"), issuer_fits("1234567890123456789")
    (True, False)
    """
    n = len(digits)
    return any(n in lengths and low <= digits[: len(low)] <= high for low, high, lengths in ISSUERS)


def is_pan(digits: str) -> bool:
    """A card number: 13-19 digits, an issuer prefix that fits the length, and Luhn."""
    return 13 <= len(digits) <= 19 and issuer_fits(digits) and luhn_ok(digits)


def _candidate_pans(ascii_text: bytes) -> list[int]:
    """Starts of card numbers in ASCII text. A form with separators is at least 16 characters
    long (four groups of four and the like; three groups of a 13-digit number are not)."""
    out = []
    for m in _CANDIDATE.finditer(ascii_text):
        written = m.group()
        if len(written) < 16 and not written.isdigit():
            continue
        if is_pan(_NOT_DIGIT.sub(b"", written).decode("ascii")):
            out.append(m.start())
    return out


@cache
def _fold_table() -> dict[int, Any]:
    """Unicode -> ASCII for the scan: decimal digits to 0-9, spaces to ' ', dashes to '-',
    invisible format characters dropped, full-width punctuation to its ASCII form."""
    table: dict[int, Any] = {9: " ", 10: " ", 13: " "}
    for cp in range(0x80, 0x20000):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if cat == "Nd":
            table[cp] = str(unicodedata.digit(ch))
        elif cat == "Zs":
            table[cp] = " "
        elif cat == "Pd":
            table[cp] = "-"
        elif cat == "Cf":
            table[cp] = None
    for full, plain in zip("，．／＿－", ",./_-", strict=True):
        table[ord(full)] = plain
    return table


def _fold(text: str) -> bytes:
    return text.translate(_fold_table()).encode("ascii", "replace")


def text_has_pan(text: str) -> bool:
    """Whether a (parsed) string holds a card number in any of the ways it may be written."""
    if text.isascii():
        folded = text.encode("ascii")
    elif _THIRTEEN_DIGITS.search(text) is None:  # C-speed: most text has no such run
        return False
    else:
        folded = _fold(text)
    return bool(_candidate_pans(folded.translate(_CONTROL_TO_SPACE)))


# 13 (Unicode) decimal digits with at most six other characters between neighbours: every way
# of writing a card number has this, so text without it needs no folding.
_THIRTEEN_DIGITS = re.compile(r"(?:\d\D{0,6}){12}\d")


_CONTROL_TO_SPACE = bytes(32 if b in (9, 10, 13) else b for b in range(256))

# bytes.translate maps digits and separators to b"1" and everything else to b"0": a card
# number needs 13 such bytes in a row, which bytes.find spots at memchr speed (the
# character-class regex this replaces cost more per line than parsing the JSON).
_RUN_TABLE = bytes(49 if chr(b) in "0123456789 -./_," else 48 for b in range(256))
_DIGIT_TABLE = bytes(49 if chr(b) in "0123456789" else 48 for b in range(256))
_RUN_END = re.compile(rb"[^1]")
# A JSON escape (\u0034, \u00a0, ...) can hide a digit or separator from the byte scan; lines
# that have one are also checked after parsing, as are lines with non-ASCII text.
_ESCAPED = re.compile(rb"\\u")


def _unescape_whitespace(blob: bytes) -> bytes:
    """JSON's \\t, \\n and \\r escapes as two spaces (same length: offsets still match)."""
    if b"\\" not in blob:
        return blob
    return blob.replace(b"\\t", b"  ").replace(b"\\n", b"  ").replace(b"\\r", b"  ")


# The run marks of the unescaped blob without unescaping it: a backslash becomes "X" and the
# letters t, n and r "Y", so the escapes are the only "XY" pairs; one replace makes them
# separators ("11") and a second table the rest of the X and Y "0". Three replaces of the
# whole block cost more than the rest of the scan (7% of an ingest worker on prose).
_ESCAPE_TABLE = bytes(
    88 if b == 92 else 89 if chr(b) in "tnr" else _RUN_TABLE[b] for b in range(256)
)
_UNMARK_TABLE = bytes(48 if b in (88, 89) else b for b in range(256))


def _run_marks(blob: bytes) -> bytes:
    """``_unescape_whitespace(blob).translate(_RUN_TABLE)``, with one replace."""
    if b"\\" not in blob:
        return blob.translate(_RUN_TABLE)
    return blob.translate(_ESCAPE_TABLE).replace(b"XY", b"11").translate(_UNMARK_TABLE)


def blob_pan_offsets(blob: bytes) -> list[int]:
    """Byte offsets in ``blob`` where a card number written in ASCII starts."""
    out: list[int] = []
    for start, stop in blob_pan_runs(blob):
        segment = _unescape_whitespace(blob[start:stop])
        out.extend(start + off for off in _candidate_pans(segment))
    return out


#: A run is looked at when it holds this many digits in a row, or is this long: 13 digits is
#: the shortest card number; 16 bytes the shortest written with separators (IPv4 addresses,
#: at most 15, never start the slower look).
RUN_DIGITS, RUN_LENGTH = 13, 16


def blob_pan_runs(blob: bytes) -> list[tuple[int, int]]:
    """``(start, stop)`` of the maximal runs of digits and separators (JSON's whitespace
    escapes count as separators) in ``blob`` that hold :data:`RUN_DIGITS` digits (a card
    number's fewest), in a row or in a run :data:`RUN_LENGTH` bytes or longer, in order: where
    a card number may be written.
    One pass in compiled code (``app/ingest/_cardscan.c``, ~10x faster) when it was built;
    else :func:`_pan_runs` (the reference), with the same result."""
    if _cardscan is not None:
        runs: list[tuple[int, int]] = _cardscan.pan_runs(blob, RUN_DIGITS, RUN_LENGTH)
        return runs
    return _pan_runs(blob)


def _pan_runs(blob: bytes) -> list[tuple[int, int]]:
    """:func:`blob_pan_runs` in Python: byte translations and ``find`` at C speed."""
    marks = _run_marks(blob)
    starts: set[int] = set()
    # an escape's two bytes are no digits, as the two spaces they stand for are not
    digits = blob.translate(_DIGIT_TABLE)
    for found, need in ((digits, b"1" * RUN_DIGITS), (marks, b"1" * RUN_LENGTH)):
        pos = found.find(need)
        while pos >= 0:
            starts.add(marks.rfind(b"0", 0, pos) + 1)
            stop = _RUN_END.search(marks, pos)
            pos = found.find(need, stop.start() if stop else len(found))
    runs = []
    for start in sorted(starts):
        stop = _RUN_END.search(marks, start)
        end = stop.start() if stop else len(blob)
        if digits.count(b"1", start, end) >= RUN_DIGITS:  # fewer: no card number fits
            runs.append((start, end))
    return runs


def _digitish_chars() -> list[str]:
    """The non-ASCII characters that can be (part of) a written card number: decimal digits
    of every script, spaces, dashes and invisible format characters."""
    return [
        chr(cp)
        for cp in range(0x80, 0x20000)
        if unicodedata.category(chr(cp)) in ("Nd", "Zs", "Pd", "Cf")
    ] + list("／＿－")  # not the full-width comma and stop: CJK text is full of them


def _utf8_pattern(chars: list[str]) -> tuple[re.Pattern[bytes], bytes]:
    """A bytes regex matching the UTF-8 of any of ``chars``, nested by byte (a trie: each
    byte is tested once per level, not once per character), and the bytes that start none of
    them."""
    trie: dict[Any, Any] = {}  # byte -> child node; None -> the last bytes ending there
    for ch in chars:
        node = trie
        raw = ch.encode()
        for byte in raw[:-1]:
            node = node.setdefault(byte, {})
        node.setdefault(None, set()).add(raw[-1])

    def pattern(node: dict[Any, Any]) -> bytes:
        parts = [
            re.escape(bytes([byte])) + pattern(child)
            for byte, child in sorted((k, v) for k, v in node.items() if k is not None)
        ]
        if None in node:
            parts.append(b"[" + b"".join(re.escape(bytes([x])) for x in sorted(node[None])) + b"]")
        return parts[0] if len(parts) == 1 else b"(?:" + b"|".join(parts) + b")"

    leads = {byte for byte in trie if byte is not None}
    return re.compile(pattern(trie)), bytes(b for b in range(256) if b not in leads)


_DIGITISH, _NOT_DIGITISH_LEAD = _utf8_pattern(_digitish_chars())


def may_hold_escapes(data: bytes) -> bool:
    """Whether ``data`` has a JSON \\u escape."""
    return _ESCAPED.search(data) is not None


def needs_parsed_check(data: bytes) -> bool:
    """Whether the byte scan may have missed a number: a JSON escape, or non-ASCII text
    with a character that may be a digit or separator (:func:`_digitish_chars`)."""
    if _ESCAPED.search(data) is not None:
        return True
    if data.isascii() or not data.translate(None, _NOT_DIGITISH_LEAD):
        return False  # no byte that starts such a character (C speed, most text stops here)
    return _DIGITISH.search(data) is not None


def parsed_pan_field(line: bytes) -> str | None:
    """The field of a JSON line whose parsed value holds a card number (JSON escapes
    decoded, Unicode folded), or None (also when the line does not parse)."""
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return _find(obj, "")


def pan_field(line: bytes) -> str:
    """Name the field of a JSON line that holds a card number (``(line)`` if unparseable)."""
    return parsed_pan_field(line) or "(line)"


#: Stands in for a key that holds a card number: the key itself is never echoed.
CARD_KEY = "(a key holding a card number)"


def _find(value: Any, path: str) -> str | None:
    if isinstance(value, dict):
        for key, item in value.items():
            if text_has_pan(str(key)):
                return f"{path}.{CARD_KEY}" if path else CARD_KEY
            sub = f"{path}.{key}" if path else str(key)
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

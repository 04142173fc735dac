"""The `shareable` redaction level: what leaves the company, and in what form.

* account ids -> stable pseudonyms (``acct-`` + a keyed hash: the same account gets the same
  pseudonym in every export from this deployment; nobody without the secret can reverse it);
* IP addresses -> their range (/24 for IPv4, /64 for IPv6); ranges stay as they are;
* emails, phones, names, billing names, devices, card fingerprints, postcodes, attributes ->
  keyed hashes (``h:`` + 16 hex digits);
* prompt texts -> excerpts of their skeleton (quoted text, numbers, emails and URLs masked),
  and template skeletons, with names and street names masked too (:func:`mask_people`);
* email domains -> unchanged for public webmail providers, keyed hashes otherwise (a company
  domain names the company);
* user agents, sign-up burst hours -> unchanged (they identify nobody).

Masking names in free text is a heuristic, said plainly: it masks the words after the cues
people write before a name ("my name is", "I am", "Dear", "Mr", "regards", ...), words
written with a capital inside a sentence, and street names (up to three words before Street,
Road, Avenue, Calle, Rue, Straße...). An unusual name in lower case with no cue before it
survives; the prompt excerpts are short for that reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from graph.signals.identity import FREE_PROVIDERS
from graph.signals.network import parse_ip
from graph.signals.prompts import skeleton

EXCERPT_CHARS = 160
MASK = "\u2039name\u203a"  # ‹name›

_CUE = (
    r"(?:my name is|my name's|i am|i'm|this is|call me|dear|hi|hello|mr|mrs|ms|miss|dr|"
    r"prof|regards|sincerely|thanks|signed|customer|patient|client|named|called)"
)
# up to three words before a street word
_STREET = re.compile(
    r"(?i)(?:[^\W\d_][\w'-]*\s+){1,3}"
    r"(?:street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|pl|"
    r"square|sq|terrace|close|crescent|highway|hwy|calle|avenida|rue|strasse|straße|via|weg|"
    r"gasse|ulitsa|ul)\b\.?"
)
# a capitalised word that does not start a sentence (original prompt texts only)
_INNER_CAPITAL = re.compile(r"(?<![.!?:\n]\s)(?<!^)(?<=\s)[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*")
_COMMON_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "but",
        "if",
        "then",
        "so",
        "to",
        "of",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "i",
        "you",
        "he",
        "she",
        "it",
        "we",
        "they",
        "me",
        "my",
        "your",
        "his",
        "her",
        "our",
        "their",
        "this",
        "that",
        "these",
        "those",
        "what",
        "which",
        "who",
        "how",
        "why",
        "when",
        "where",
        "please",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "do",
        "does",
        "did",
        "not",
        "no",
        "yes",
        "all",
        "any",
        "some",
        "each",
        "every",
        "step",
        "steps",
        "think",
        "answer",
        "question",
        "explain",
        "show",
        "write",
        "give",
        "list",
        "make",
        "use",
        "using",
        "first",
        "then",
        "finally",
        "reason",
        "reasoning",
        "here",
        "there",
    ]
)

# one or two words after a cue (the cue is kept), unless the first is an ordinary word
_AFTER_CUE = re.compile(
    rf"(?i)\b({_CUE}\.?,?\s+)(?!(?:{'|'.join(sorted(_COMMON_WORDS))})\b)"
    r"([^\W\d_][\w'-]*)(\s+[^\W\d_][\w'-]*)?"
)


def mask_people(text: str, *, original: bool = False) -> str:
    """``text`` with names and street names replaced by ‹name› (see the module doc);
    ``original``: a prompt as written, where capitals also mark names."""
    text = _STREET.sub(MASK, text)

    def after_cue(m: re.Match[str]) -> str:
        second = m.group(3) or ""
        masked = m.group(1) + MASK
        if second and second.strip().lower() not in _COMMON_WORDS:
            return masked
        return masked + second

    text = _AFTER_CUE.sub(after_cue, text)
    if original:
        text = _INNER_CAPITAL.sub(
            lambda m: m.group(0) if m.group(0).lower() in _COMMON_WORDS else MASK, text
        )
    return text


# evidence kinds whose values are shown as they are, even when shareable
PUBLIC_KINDS = frozenset({"template", "user_agent", "signup_burst", "model", "ip_range"})


class Redactor:
    """Turns clear values into their shareable form (or leaves them, for ``internal``)."""

    def __init__(self, shareable: bool, keyed: Callable[[str, str], int]) -> None:
        self.shareable = shareable
        self._keyed = keyed

    def digest(self, space: str, value: str) -> str:
        return f"h:{self._keyed('export:' + space, value) & 0xFFFFFFFFFFFFFFFF:016x}"

    def account(self, account_id: str) -> str:
        if not self.shareable:
            return account_id
        return f"acct-{self._keyed('export:account', account_id) & 0xFFFFFFFFFFFF:012x}"

    def ip(self, value: str | None) -> str | None:
        if value is None or not self.shareable:
            return value
        parsed = parse_ip(value)
        return parsed[1] if parsed else self.digest("ip", value)

    def value(self, kind: str, value: str | None) -> str | None:
        """An evidence value of ``kind`` (as named in explanations)."""
        if value is None or not self.shareable:
            return value
        if kind == "template":
            return mask_people(value)
        if kind in PUBLIC_KINDS:
            return value
        if kind == "ip":
            return self.ip(value)
        return self.digest(kind, value)

    def personal(self, space: str, value: str | None) -> str | None:
        if value is None or not self.shareable:
            return value
        return self.digest(space, value)

    def email_domain(self, domain: str | None) -> str | None:
        """Public webmail domains as they are; any other domain names an organisation."""
        if domain is None or not self.shareable or domain.lower() in FREE_PROVIDERS:
            return domain
        return self.digest("email_domain", domain)

    def prompt(self, text: str) -> str:
        if not self.shareable:
            return text
        masked = mask_people(skeleton(mask_people(text, original=True)))
        return masked if len(masked) <= EXCERPT_CHARS else masked[: EXCERPT_CHARS - 1] + "…"

"""The `shareable` redaction level: what leaves the company, and in what form.

* account ids -> stable pseudonyms (``acct-`` + a keyed hash: the same account gets the same
  pseudonym in every export from this deployment; nobody without the secret can reverse it);
* IP addresses -> their range (/24 for IPv4, /64 for IPv6); ranges stay as they are;
* emails, phones, names, billing names, devices, card fingerprints, postcodes, attributes ->
  keyed hashes (``h:`` + 16 hex digits);
* prompt texts -> excerpts of their skeleton (quoted text, numbers, emails and URLs masked);
* user agents, template skeletons, sign-up burst hours -> unchanged (they identify nobody).
"""

from __future__ import annotations

from collections.abc import Callable

from graph.signals.network import parse_ip
from graph.signals.prompts import skeleton

EXCERPT_CHARS = 160
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
        if value is None or not self.shareable or kind in PUBLIC_KINDS:
            return value
        if kind == "ip":
            return self.ip(value)
        return self.digest(kind, value)

    def personal(self, space: str, value: str | None) -> str | None:
        if value is None or not self.shareable:
            return value
        return self.digest(space, value)

    def prompt(self, text: str) -> str:
        if not self.shareable:
            return text
        masked = skeleton(text)
        return masked if len(masked) <= EXCERPT_CHARS else masked[: EXCERPT_CHARS - 1] + "…"

"""Values that detection derives itself from stored fields (they are not keyed at ingest):
their display text and their link key. One definition for the loader, which links accounts
by them, and for exports, which find the members that hold them."""

from __future__ import annotations

from typing import Any

from app.core.hashing import content_key


def attribute_text(name: str, value: Any) -> str:
    """A declared account attribute, e.g. ``team=red``."""
    return f"{name}={value}"


def bin_postcode_text(bin_: str, postcode: str) -> str:
    """A card's issuer number (BIN) with its billing postcode."""
    return f"BIN {bin_}, postcode {postcode}"


def derived_key(text: str) -> int:
    """The link key of a derived value: its unkeyed content digest (the text holds no
    personal value on its own; attributes and postcodes are shown only to reviewers)."""
    return content_key(text.encode())

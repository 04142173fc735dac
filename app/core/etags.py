"""Strong ETags: a digest of the exact bytes sent, and the If-Match / If-None-Match test.

A tag is a digest of the representation, so two responses share a tag only when their bodies
are byte-identical (a viewer's redacted detail and a reviewer's full one differ).
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel


def body_etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def model_etag(model: BaseModel) -> str:
    return body_etag(model.model_dump_json().encode())


def matches(header: str | None, tag: str) -> bool:
    """If-None-Match / If-Match comparison: ``*`` or any listed tag (W/ prefix ignored)."""
    if header is None:
        return False
    wanted = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in wanted or tag in wanted

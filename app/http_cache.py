"""Strong ETags computed from the exact bytes sent, and If-None-Match answered with 304.

A tag is a digest of the representation, so two responses share a tag only when their bodies
are byte-identical (a viewer's redacted detail and a reviewer's full one differ).
"""

from __future__ import annotations

import hashlib

from fastapi import Request, Response
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


def cached_json(request: Request, model: BaseModel, *, max_age: int = 0) -> Response:
    """``model`` as JSON with its ETag, or 304 when the client already holds that version."""
    return cached_body(request, model.model_dump_json().encode(), max_age=max_age)


def cached_body(request: Request, body: bytes, *, max_age: int = 0) -> Response:
    """A JSON body with its ETag, or 304 when the client already holds it."""
    tag = body_etag(body)
    headers = {"ETag": tag, "Cache-Control": f"private, max-age={max_age}, must-revalidate"}
    if matches(request.headers.get("if-none-match"), tag):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type="application/json", headers=headers)

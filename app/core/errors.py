"""Domain errors carry their HTTP status; :mod:`app.web.problems` renders them as RFC 9457
problems. Nothing here imports the web framework: the CLI's commands (detect, ingest) raise
and describe these errors without loading it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PROBLEM_JSON = "application/problem+json"


def quoted(value: str, limit: int = 80) -> str:
    """``value`` quoted for an error message, cut to ``limit`` characters: a 404 for a
    5,000-character id echoed all of it back.

    >>> quoted("acct_1")
    "'acct_1'"
    >>> quoted("x" * 100, 5)
    "'xxxxx...' (100 characters)"
    >>> print(quoted("it's " + "x" * 100, 10))
    "it's xxxxx..." (105 characters)
    """
    if len(value) <= limit:
        return repr(value)
    return f"{value[:limit] + '...'!r} ({len(value)} characters)"


class Problem(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class Unauthorized(Problem):
    status = 401
    title = "Unauthorized"


class Forbidden(Problem):
    status = 403
    title = "Forbidden"


class BadRequest(Problem):
    status = 400
    title = "Bad request"


class NotFound(Problem):
    status = 404
    title = "Not found"


class Conflict(Problem):
    status = 409
    title = "Conflict"


class Unprocessable(Problem):
    status = 422
    title = "Unprocessable content"


class PreconditionFailed(Problem):
    status = 412
    title = "Precondition failed"


class PreconditionRequired(Problem):
    status = 428
    title = "Precondition required"


class PayloadTooLarge(Problem):
    status = 413
    title = "Payload too large"


class TooManyRequests(Problem):
    status = 429
    title = "Too many requests"


class ProblemDoc(BaseModel):
    """RFC 9457 problem details: every error this API returns has this shape."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict[str, Any]] | None = Field(
        None, description="Validation errors: loc (where), msg (what), type"
    )
    etag: str | None = Field(None, description="On 412 / 428: the cluster's current ETag")


_PROBLEM_CONTENT = {
    PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}},
}
_DESCRIPTIONS = {
    400: "Bad request (e.g. a cursor this API did not issue)",
    401: "No API key, or an unknown or revoked one",
    403: "The key's role is too low for this",
    404: "No such resource",
    409: "Conflict with the current state",
    412: "The resource changed since it was read (If-Match)",
    413: "Request body too large",
    422: "Invalid parameters or body",
    428: "If-Match is required",
    429: "Rate limit exceeded; see Retry-After",
    503: "Not ready",
}


def responses(*codes: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for error codes, all as problem documents."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes:
        out[code] = {"description": _DESCRIPTIONS[code], "content": _PROBLEM_CONTENT}
    for key, text in described.items():
        out[int(key.removeprefix("s"))] = {"description": text, "content": _PROBLEM_CONTENT}
    return out


# what any authenticated endpoint can answer
AUTHENTICATED = responses(400, 401, 403, 404, 422, 429)
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the ETag sent in If-None-Match is current"}
}


def describe(exc: BaseException) -> str:
    """A one-line description of an unexpected error that holds no data values.

    Database errors carry their statement's parameters and, on PostgreSQL, a DETAIL with the
    failing row (names, emails, prompts): only the error class, the SQLSTATE and the start
    of the statement are kept. Anything else is named by its type only: a message may quote
    the input it failed on.
    """
    from sqlalchemy.exc import StatementError

    if isinstance(exc, StatementError):
        orig = exc.orig
        if not exc.statement:  # connecting failed: its message names host and port, no data
            first = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
            return f"cannot reach the database: {type(orig).__name__}: {first[:200]}"
        code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        state = f", SQLSTATE {code}" if code else ""
        statement = " ".join((exc.statement or "").split())[:160]
        return f"{type(exc).__name__} ({type(orig).__name__}{state}) in: {statement}"
    return type(exc).__name__

"""Timestamps leave the service as RFC 3339 with an offset, whatever the database returns.

SQLite has no time zone type: it hands back naive datetimes that were written as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def aware(ts: datetime | None) -> datetime | None:
    """``ts`` with UTC attached when the database dropped the offset."""
    return ts.replace(tzinfo=UTC) if ts is not None and ts.tzinfo is None else ts


def utc(ts: datetime | None) -> datetime | None:
    """An instant from outside (an ingested record, a query parameter) as aware UTC; a
    datetime without an offset is taken as UTC.

    SQLite keeps a datetime as its wall-clock text without the offset, and everything that
    reads it back takes that text as UTC (:func:`aware`, the detection loader). Stored or
    compared as sent, ``05:16:28+02:00`` counted as 05:16:28Z on SQLite (two hours off a
    sign-up burst; a dashboard's ``updated_since`` skipped two hours of changes) while
    PostgreSQL kept the instant.
    """
    if ts is None:
        return None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def iso(ts: datetime | None) -> str | None:
    """RFC 3339 text of a stored datetime, with its UTC offset (SQLite hands back none)."""
    t = utc(ts)
    return t.isoformat() if t is not None else None


def from_epoch(seconds: int | None) -> datetime | None:
    """Epoch seconds (how request times are stored) as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, UTC) if seconds is not None else None


def _aware(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts


UtcDatetime = Annotated[datetime, AfterValidator(_aware)]

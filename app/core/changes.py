"""Change numbers for the dashboards' change feed.

Every write that changes a cluster (a detection run's results, a review decision) first takes
the counter row's lock with :func:`lock`, then numbers the clusters it changes with
:func:`take`. Because the lock is held until commit, numbers become visible in commit order:
a reader that has seen number N can never later find a new commit with a number below N, so
resuming the feed from a cursor loses nothing. Taking the lock first in every writer also
gives one lock order (counter, then cluster rows), so writers cannot deadlock each other.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import ChangeCounter

FEED = "clusters"
DATA = "data"  # every committed unit of work: the response caches' version (app.cache.store)

_BUMP_DATA = (
    update(ChangeCounter)
    .where(ChangeCounter.name == DATA)
    .values(value=ChangeCounter.value + 1)
    .execution_options(synchronize_session=False)
)
DATA_VERSION = select(ChangeCounter.value).where(ChangeCounter.name == DATA)


def lock(session: Session) -> None:
    """Take the feed's write lock for the rest of this transaction."""
    res = session.execute(
        update(ChangeCounter)
        .where(ChangeCounter.name == FEED)
        .values(value=ChangeCounter.value)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount == 0:  # type: ignore[attr-defined]  # a database made before the counter
        session.add(ChangeCounter(name=FEED, value=0))
        session.flush()


def take(session: Session, n: int) -> range:
    """``n`` consecutive change numbers (call :func:`lock` first in the transaction)."""
    if n <= 0:
        return range(0)
    session.execute(
        update(ChangeCounter)
        .where(ChangeCounter.name == FEED)
        .values(value=ChangeCounter.value + n)
        .execution_options(synchronize_session=False)
    )
    end = int(session.scalar(select(ChangeCounter.value).where(ChangeCounter.name == FEED)) or 0)
    return range(end - n + 1, end + 1)


def position(session: Session) -> int:
    """The newest change number handed out (0 before any change)."""
    return int(session.scalar(select(ChangeCounter.value).where(ChangeCounter.name == FEED)) or 0)


def bump_data(session: Session) -> None:
    """Mark this transaction as a new data version (run last, just before commit, so the
    row lock is held only while committing)."""
    if session.execute(_BUMP_DATA).rowcount == 0:  # type: ignore[attr-defined]
        session.add(ChangeCounter(name=DATA, value=1))
        session.flush()


def data_version(session: Session) -> int:
    """The data version this session's next statement sees (0 before any commit)."""
    return int(session.connection().execute(DATA_VERSION).scalar() or 0)

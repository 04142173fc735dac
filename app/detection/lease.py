"""Who is running a detection run, and how to tell that it died.

Only one run may be ``running``. The process that runs it is recorded (host, pid) and writes
a heartbeat every :data:`HEARTBEAT_SECONDS`. A new run finds a ``running`` one dead, and marks
it failed, when its process is gone (same host) or its heartbeat is older than
:data:`LEASE_SECONDS` (any host: a machine that was killed or lost cannot say so). An operator
can also fail a run at once: ``hydrascope runs fail RUN_ID`` (audited).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, update

from app.core.timestamps import aware
from app.models import DetectionRun

#: How often a running run says it is alive.
HEARTBEAT_SECONDS = 30.0
#: A run silent this long is dead: ten missed heartbeats, so a busy machine is not mistaken.
LEASE_SECONDS = 300.0


def runner() -> dict[str, Any]:
    """This process, as recorded on the runs it starts."""
    return {"host": socket.gethostname(), "pid": os.getpid()}


def why_dead(run: DetectionRun, now: datetime | None = None) -> str | None:
    """Why ``run`` (status running) is dead, or None while it may still be working."""
    who = (run.counts or {}).get("runner", {})
    if who.get("host") == socket.gethostname() and who.get("pid") and not _pid_alive(who["pid"]):
        return f"the process running it (pid {who['pid']}) ended without finishing"
    last = aware(run.heartbeat_at) or aware(run.started_at)
    now = now or datetime.now(UTC)
    if last is not None and now - last > timedelta(seconds=LEASE_SECONDS):
        return (
            f"no heartbeat from {who.get('host', 'its host')} since {last.isoformat()} "
            f"(more than {LEASE_SECONDS:.0f} s)"
        )
    return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def heartbeat(engine: Engine, run_id: str, every: float = HEARTBEAT_SECONDS) -> Iterator[None]:
    """Beat for ``run_id`` while the block runs. Beats are committed on their own connection
    and do not advance the data version: nothing a reader sees changed."""
    stop = threading.Event()

    def beat() -> None:
        # the run was created with a first beat; after the last, the thread ends without
        # touching the database again (the engine may be gone by then)
        while not stop.wait(every):
            try:
                with engine.begin() as conn:
                    conn.execute(
                        update(DetectionRun)
                        .where(DetectionRun.id == run_id, DetectionRun.status == "running")
                        .values(heartbeat_at=datetime.now(UTC))
                    )
            except Exception:  # a missed beat is retried; the lease allows ten
                pass

    thread = threading.Thread(target=beat, name=f"heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()

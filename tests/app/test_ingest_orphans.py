"""`kill -9` of an ingest leaves no worker processes behind, nor their spool directory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import account, ndjson, request

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc (Linux)")


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out |= {int(c) for c in (task / "children").read_text().split()}
        except OSError:
            continue
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _big_file(tmp_path: Path, backend: str) -> Path:
    if backend != "sqlite":
        pytest.skip("process handling does not depend on the database")
    lines = [account(i) for i in range(200)]
    lines += [request(f"acct_{i % 200}", id=f"r{i}", prompt=f"q {i}") for i in range(300_000)]
    data = tmp_path / "big.ndjson"
    data.write_bytes(ndjson(*lines))
    return data


@pytest.mark.slow
def test_workers_end_when_the_ingest_is_killed(
    cli_env: dict[str, str], tmp_path: Path, backend: str
) -> None:
    data = _big_file(tmp_path, backend)
    env = {**os.environ, **cli_env, "HYDRASCOPE_INGEST_WORKERS": "2"}
    env["HYDRASCOPE_INGEST_BATCH_LINES"] = "5000"
    temp = tmp_path / "temp"
    temp.mkdir()
    env["TMPDIR"] = str(temp)  # where the ingest makes its spool directory (app.ingest.spool)
    parent = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "ingest", str(data)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    spooling = False  # the workers start first, then the ingest makes its spool directory
    while time.monotonic() < deadline and parent.poll() is None:
        spooling = any(temp.iterdir())
        if len(workers) == 2 and spooling:
            break
        # spawn starts a resource tracker too: workers are the children running app code
        workers = {
            c
            for c in _children(parent.pid)
            if b"multiprocessing" in Path(f"/proc/{c}/cmdline").read_bytes()
            and b"resource_tracker" not in Path(f"/proc/{c}/cmdline").read_bytes()
        }
        time.sleep(0.1)
    assert parent.poll() is None and len(workers) == 2, "the ingest should still be running"
    assert [d.name.startswith("hydrascope-ingest-") for d in temp.iterdir()] == [True]
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    left = [w for w in workers if _alive(w)]
    for w in left:
        os.kill(w, signal.SIGKILL)
    assert not left, "workers outlived their ingest"
    assert list(temp.iterdir()) == [], "the spool directory outlived its ingest"


@pytest.mark.slow
def test_sigterm_stops_an_ingest_like_ctrl_c_and_cleans_up(
    cli_env: dict[str, str], tmp_path: Path, backend: str
) -> None:
    # a service manager's SIGTERM: committed batches kept, exit 130, no workers and no spool
    # directory (prepared batches hold personal data) left behind
    data = _big_file(tmp_path, backend)
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, **cli_env, "HYDRASCOPE_INGEST_WORKERS": "2", "TMPDIR": str(temp)}
    env["HYDRASCOPE_INGEST_BATCH_LINES"] = "5000"
    parent = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "ingest", str(data)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and parent.poll() is None and not any(temp.iterdir()):
        time.sleep(0.05)
    time.sleep(0.5)  # batches under way
    assert parent.poll() is None, "the ingest should still be running"
    workers = _children(parent.pid)
    parent.send_signal(signal.SIGTERM)
    _, err = parent.communicate(timeout=60)
    assert parent.returncode == 130, err
    assert b"interrupted: committed batches are kept" in err
    assert list(temp.iterdir()) == []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)]

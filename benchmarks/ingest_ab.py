"""Interleaved A/B of `hydrascope ingest`: a git ref against the working tree, on one file.

    python benchmarks/ingest_ab.py --ref d184586 [--file PATH | --accounts 50000]
        [--runs 3] [--workers 2]

These machines' speed drifts by 20% and more within minutes, so a change is judged by runs of
the old and the new code taken in turns (ref, tree, ref, tree, ...), each into a fresh SQLite
file, each measured as a whole process tree (benchmarks/_measure.py). The ref is checked out
into a temporary git worktree and its compiled kernels are built there with the C compiler
(without them it would measure the Python fallbacks; the script stops if a build fails).
Each arm runs with its own tree first on PYTHONPATH and as its working directory, the CLI
started from a script file as the ``hydrascope`` console script starts it (what a spawned
worker process does first depends on that: app.ingest.workers); every run checks which tree
its ``app`` package came from. Prints the runs and the medians; writes nothing to docs/ (put
the figures in the section that uses them).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import _world as bench  # noqa: E402
from benchmarks._measure import Measured, run_measured  # noqa: E402

#: The compiled parts (setup.py); each is optional at install, but an arm without one would
#: measure the Python fallback.
EXTENSIONS = ("graph/signals/_kernels", "app/ingest/_cardscan", "app/core/_digests")

# The CLI, run from a script file as the `hydrascope` console script runs it (a spawned
# worker process sees a main script then, as in real use; `python -c` has none), after
# checking that `app` comes from the arm's own tree.
_LAUNCH = """\
import os
import sys

import app

root = os.getcwd()
assert app.__file__.startswith(root + os.sep), (app.__file__, root)
from app.cli import main

if __name__ == "__main__":
    sys.argv[0] = "hydrascope"
    main()
"""


def worktree(ref: str, where: Path) -> Path:
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(where), ref],
        check=True,
        capture_output=True,
    )
    return where


def build_extensions(tree: Path) -> None:
    """Compile the tree's C sources in place, as setup.py's build does (-O3, shared)."""
    cc = os.environ.get("CC", "cc")
    include = sysconfig.get_paths()["include"]
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    for ext in EXTENSIONS:
        source = tree / f"{ext}.c"
        if not source.exists():
            continue  # not in that version
        cmd = [cc, "-O3", "-shared", "-fPIC", f"-I{include}", str(source), "-o"]
        result = subprocess.run([*cmd, str(tree / f"{ext}{suffix}")], capture_output=True)
        if result.returncode != 0:
            sys.exit(f"building {source} failed:\n{result.stderr.decode(errors='replace')}")


def launcher(tmp: Path) -> Path:
    script = tmp / "hydrascope_launch.py"
    script.write_text(_LAUNCH)
    return script


def ingest_once(tree: Path, data: Path, workers: int, tmp: Path) -> tuple[Measured, int]:
    db = tmp / f"ab-{time.monotonic_ns()}.db"
    env = dict(
        os.environ,
        HYDRASCOPE_DATABASE_URL=f"sqlite:///{db}",
        HYDRASCOPE_SECRET_KEY=bench.SECRET,
        HYDRASCOPE_DEV_MODE="0",
        PYTHONPATH=str(tree),
    )
    py = sys.executable
    up = subprocess.run(
        [py, str(launcher(tmp)), "db", "upgrade"], cwd=tree, env=env, capture_output=True
    )
    if up.returncode != 0:
        sys.exit(f"{tree}: db upgrade failed:\n{up.stderr.decode(errors='replace')}")
    args = ["ingest", "--workers", str(workers), "--json", str(data)]
    m = run_measured([py, str(launcher(tmp)), *args], env=env, cwd=tree)
    if m.returncode != 0:
        sys.exit(f"{tree}: ingest failed:\n{m.stderr[-3000:]}")
    size = db.stat().st_size
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return m, size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ref", required=True, help="git ref of the baseline (e.g. a commit)")
    ap.add_argument("--file", type=Path, help="NDJSON file (default: a realistic world)")
    ap.add_argument("--accounts", type=int, default=50_000, help="realistic world's size")
    ap.add_argument("--runs", type=int, default=3, help="runs of each arm")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ingest-ab-") as name:
        tmp = Path(name)
        data = args.file
        if data is None:
            from worlds.world import generate_world

            data = tmp / "realistic.ndjson"
            stats = bench.write_ndjson(
                generate_world(bench.realistic_world(args.accounts, seed=42)), data
            )
            print(bench.describe_file("realistic", stats), file=sys.stderr)
        base = worktree(args.ref, tmp / "ref")
        try:
            build_extensions(base)
            arms = {f"{args.ref} (ref)": base, "working tree": ROOT}
            runs: dict[str, list[tuple[Measured, int]]] = {label: [] for label in arms}
            for i in range(args.runs):
                for label, tree in arms.items():
                    m, size = ingest_once(tree, data.resolve(), args.workers, tmp)
                    runs[label].append((m, size))
                    print(
                        f"run {i + 1} {label}: {m.seconds:.1f} s, CPU {m.cpu_seconds:.1f} s, "
                        f"peak {m.peak_bytes / 2**20:,.0f} MiB, database {size / 1e6:,.0f} MB",
                        file=sys.stderr,
                    )
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)],
                capture_output=True,
            )
    print(f"Machine: {bench.machine()}. File: {data.name}, {args.runs} runs an arm, interleaved.")
    print("| arm | median wall | runs (s) | CPU (s) | peak |")
    print("|---|---|---|---|---|")
    for label, ms in runs.items():
        walls = [m.seconds for m, _ in ms]
        cpus = " / ".join(f"{m.cpu_seconds:.1f}" for m, _ in ms)
        peak = max(m.peak_bytes for m, _ in ms) / 2**20
        each = " / ".join(f"{w:.1f}" for w in walls)
        print(f"| {label} | {statistics.median(walls):.1f} s | {each} | {cpus} | {peak:,.0f} MiB |")


if __name__ == "__main__":
    main()

"""Shared by the benchmarks: build a world, ingest it into a fresh database, load it back."""

from __future__ import annotations

import json
import platform
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson

from app.core.config import Settings
from app.core.context import Context
from app.core.db import upgrade
from app.detection.loader import load_input
from app.ingest.service import ingest_world
from graph.data import DetectionInput
from graph.signals.prompts import skeleton
from worlds.world import World, WorldParams

SECRET = "benchmark-secret-key-0123456789abcdef"


def fresh_sqlite(tmp: Path, name: str = "bench.db") -> Context:
    ctx = Context(Settings(database_url=f"sqlite:///{tmp / name}", secret_key=SECRET))
    upgrade(ctx.engine)
    return ctx


def world_input(world: World, workers: int = 2) -> tuple[DetectionInput, dict[str, str]]:
    """Ingest ``world`` through the real pipeline into a temporary SQLite, read it back."""
    with tempfile.TemporaryDirectory() as tmp:
        ctx = fresh_sqlite(Path(tmp))
        ingest_world(ctx, world, workers=workers)
        with ctx.engine.connect() as conn:
            inp, _, _ = load_input(conn, ctx.settings.activity_window_seconds)
        ctx.close()
    return inp, dict(world.truth())


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    import os

    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}){mem}, "
        f"Python {platform.python_version()}"
    )


def today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def git_rev() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


#: The worlds the ingest and detection benchmarks measure side by side: ``classic`` (benign
#: prompts fill a small pool of templates) and ``realistic`` (``worlds.world.realistic_params``:
#: most benign prompts are one-off prose of realistic lengths, as real traffic has them).
WORLDS = ("classic", "realistic")
REALISTIC_PER_COPY = 10_000  # accounts per copy of the realistic networks


def realistic_world(accounts: int, seed: int) -> WorldParams:
    """A realistic-prompt world of about ``accounts`` accounts: one copy of the realistic
    networks per 10,000 accounts (as the classic world plants copies), each at its own size;
    below 10,000 accounts one copy, scaled down. Scaling one copy up instead makes networks of
    thousands of accounts, whose shared values are all over the public cap."""
    from worlds.builder import NetworkSpec
    from worlds.world import REALISTIC_NETWORKS, realistic_params

    copies = max(1, round(accounts / REALISTIC_PER_COPY))
    scale = min(accounts / REALISTIC_PER_COPY, 1.0)
    nets = tuple(
        NetworkSpec(
            s.name if copies == 1 else f"{s.name}_{c:03d}", s.style, max(6, int(s.size * scale))
        )
        for c in range(copies)
        for s in REALISTIC_NETWORKS
    )
    planted = sum(n.size for n in nets)
    base = realistic_params(seed=seed, n_benign=max(accounts - planted, 1))
    return replace(base, networks=nets)


@dataclass
class FileStats:
    """What a benchmark file holds: record counts and its benign prompts' shape."""

    counts: dict[str, int]
    bytes: int
    benign_prompts: int
    benign_unique_share: float  # share of benign requests whose prompt text occurs once
    benign_unique_skeletons: float  # ... whose template skeleton occurs once
    prompt_chars: tuple[int, int, int]  # 1st percentile, median, 99th percentile
    prompt_in_range: float  # share of benign prompts of 200-4,000 characters


def write_ndjson(world: World, path: Path) -> FileStats:
    """Write ``world`` as contract NDJSON, counting its benign prompts' repeats and lengths."""
    benign = {a for a, label in world.truth() if label == "benign"}
    counts = {"account": 0, "payment_method": 0, "request": 0}
    seen: Counter[int] = Counter()
    skeletons: Counter[int] = Counter()
    lengths: list[int] = []
    with path.open("wb") as fh:
        for rec in world.records():
            fh.write(orjson.dumps(rec) + b"\n")
            counts[rec["type"]] += 1
            prompt = rec.get("prompt")
            if prompt and rec["account_id"] in benign:
                seen[hash(prompt)] += 1
                skeletons[hash(skeleton(prompt))] += 1
                lengths.append(len(prompt))
    n = len(lengths)
    once = sum(1 for c in seen.values() if c == 1)
    skel_once = sum(1 for c in skeletons.values() if c == 1)
    arr = np.asarray(lengths or [0])
    p1, p50, p99 = (int(v) for v in np.percentile(arr, [1, 50, 99]))
    return FileStats(
        counts=counts,
        bytes=path.stat().st_size,
        benign_prompts=n,
        benign_unique_share=once / n if n else 0.0,
        benign_unique_skeletons=skel_once / n if n else 0.0,
        prompt_chars=(p1, p50, p99),
        prompt_in_range=float(((arr >= 200) & (arr <= 4000)).mean()) if n else 0.0,
    )


def json_parse_cpu(path: Path) -> float:
    """CPU seconds of a plain ``json.loads`` (the standard library) of every line of ``path``:
    the issue's reference for detection's CPU time."""
    t0 = time.process_time()
    with path.open("rb") as fh:
        for line in fh:
            json.loads(line)
    return time.process_time() - t0


def describe_file(name: str, s: FileStats) -> str:
    """One sentence about a benchmark file, for the report."""
    p1, p50, p99 = s.prompt_chars
    return (
        f"*{name}*: {s.counts['account']:,} accounts, {s.counts['request']:,} requests, "
        f"{s.bytes / 1e6:,.0f} MB NDJSON; benign prompts {s.benign_unique_share:.1%} unique "
        f"({s.benign_unique_skeletons:.1%} of their skeletons), "
        f"length p1 / median / p99 {p1:,} / {p50:,} / {p99:,} characters "
        f"({s.prompt_in_range:.1%} within 200-4,000)"
    )

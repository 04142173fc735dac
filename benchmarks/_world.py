"""Shared by the benchmarks: build a world, ingest it into a fresh database, load it back."""

from __future__ import annotations

import platform
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from app.core.config import Settings
from app.core.context import Context
from app.core.db import upgrade
from app.detection.loader import load_input
from app.ingest.service import ingest_world
from graph.data import DetectionInput
from worlds.world import World

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

"""A world as files: contract NDJSON (gzip) and its ground truth CSV, and reading the truth back."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import orjson

from worlds.world import World


def world_ndjson(world: World) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in world.records())


def write_world(world: World, out_dir: Path) -> tuple[Path, Path]:
    """``world.ndjson.gz`` and ``truth.csv`` (``account_id,label``) in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data_path = out_dir / "world.ndjson.gz"
    with gzip.open(data_path, "wb", compresslevel=3) as fh:
        for rec in world.records():
            fh.write(orjson.dumps(rec) + b"\n")
    truth_path = out_dir / "truth.csv"
    with truth_path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["account_id", "label"])
        w.writerows(world.truth())
    return data_path, truth_path


def read_truth(path: Path) -> dict[str, str]:
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames != ["account_id", "label"]:
            raise ValueError(f"{path}: header must be 'account_id,label', got {reader.fieldnames}")
        return {row["account_id"]: row["label"] for row in reader}

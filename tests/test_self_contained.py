"""A clone is all a user has: nothing in the project reads files beside the repository."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP = {".git", ".venv", "node_modules", "demo", ".mypy_cache", ".ruff_cache", ".pytest_cache"}


def _files() -> list[Path]:
    out = []
    for p in ROOT.rglob("*"):
        rel = p.relative_to(ROOT)
        if any(part in SKIP or part.endswith(".egg-info") for part in rel.parts):
            continue
        if p.is_file() and p.suffix in {".py", ".md", ".toml", ".ini", ".yml", ".yaml", ".cfg"}:
            out.append(p)
    return [*out, ROOT / "Makefile", ROOT / ".ci" / "run"]


def test_nothing_reads_outside_the_clone() -> None:
    parent = "../" + "shared"  # written in two pieces so this file does not match itself
    offenders = [
        str(p.relative_to(ROOT)) for p in _files() if parent in p.read_text(errors="replace")
    ]
    assert offenders == []


def test_the_project_carries_its_own_sample_and_contract() -> None:
    sample = ROOT / "docs" / "samples" / "sample.ndjson"
    kinds = {line.split('"type":"')[1].split('"')[0] for line in sample.read_text().splitlines()}
    assert kinds == {"account", "payment_method", "request"}
    assert "docs/samples/sample.ndjson" in (ROOT / "docs" / "data-format.md").read_text()

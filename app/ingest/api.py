"""Ingest entry points shared by the CLI and HTTP: build an Ingestor from settings."""

from __future__ import annotations

from app.context import Context
from app.ingest.service import ErrorSink, Ingestor


def make_ingestor(
    ctx: Context,
    *,
    strict: bool = False,
    workers: int = 0,
    on_error: ErrorSink | None = None,
    sqlite_cache_mib: int = 0,
) -> Ingestor:
    s = ctx.settings
    return Ingestor(
        ctx.sessions,
        s.hashing_key(),
        batch_lines=s.ingest_batch_lines,
        commit_lines=s.ingest_commit_lines,
        window_seconds=s.activity_window_seconds,
        samples_per_template=s.prompt_samples_per_template,
        strict=strict,
        workers=workers,
        on_error=on_error,
        sqlite_cache_mib=sqlite_cache_mib,
    )

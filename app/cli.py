"""The ``hydrascope`` command line."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO

import click
import orjson

from app.config import ConfigError
from app.context import Context, default_context
from app.db import SchemaError


def _ctx(check_schema: bool = True) -> Context:
    ctx = default_context()
    click_ctx = click.get_current_context(silent=True)
    if click_ctx is not None:
        click_ctx.call_on_close(ctx.close)
    if check_schema:
        try:
            ctx.ready()
        except SchemaError as exc:
            raise click.ClickException(str(exc)) from exc
    return ctx


def _hasher_or_fail(ctx: Context) -> None:
    try:
        ctx.hasher  # noqa: B018 - fail fast on an unsafe secret
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
@click.version_option(package_name="hydrascope")
def main() -> None:
    """Find coordinated fake-account (Hydra) networks and serve them for review."""


# ---------------------------------------------------------------- database
@main.group()
def db() -> None:
    """Database schema: upgrade, downgrade, current revision."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    from app.db import upgrade

    ctx = _ctx(check_schema=False)
    upgrade(ctx.engine, revision)
    click.echo(f"database at {revision}", err=True)


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (``base`` removes everything)."""
    from app.db import downgrade

    ctx = _ctx(check_schema=False)
    downgrade(ctx.engine, revision)
    click.echo(f"database at {revision}", err=True)


@db.command("current")
def db_current() -> None:
    """Print the database's revision and the code's head revision."""
    from app.db import current_revision, head_revision

    ctx = _ctx(check_schema=False)
    click.echo(f"database: {current_revision(ctx.engine)}\ncode head: {head_revision()}")


# ---------------------------------------------------------------- ingest
@contextlib.contextmanager
def _open_input(path: str) -> Iterator[BinaryIO]:
    if path == "-":
        yield sys.stdin.buffer
        return
    p = Path(path)
    if not p.is_file():
        raise click.ClickException(f"{path}: no such file")
    with p.open("rb") as fh:
        yield fh


@main.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--strict", is_flag=True, help="All or nothing per file: any error stores nothing.")
@click.option(
    "--errors",
    "errors_path",
    type=click.Path(dir_okay=False, writable=True),
    help="Write every rejected record's line, field and reason here (JSON lines).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    default=None,
    help="Worker processes for parsing (default HYDRASCOPE_INGEST_WORKERS; 0 = none).",
)
def ingest(
    paths: tuple[str, ...],
    strict: bool,
    errors_path: str | None,
    as_json: bool,
    workers: int | None,
) -> None:
    """Ingest NDJSON files (plain or .gz; ``-`` reads standard input)."""
    from app.ingest.api import make_ingestor

    ctx = _ctx()
    if workers is None:
        workers = ctx.settings.ingest_workers
    _hasher_or_fail(ctx)
    sink: IO[bytes] | None = open(errors_path, "wb") if errors_path else None  # noqa: SIM115
    results: list[dict[str, Any]] = []
    interrupted = False
    failed = False
    try:
        for path in paths:
            current = path

            def write_error(e: Any, _src: str = current) -> None:
                if sink:
                    sink.write(orjson.dumps({"source": _src, **e.as_dict()}) + b"\n")

            ingestor = make_ingestor(ctx, strict=strict, workers=workers, on_error=write_error)
            with _open_input(path) as fh:
                summary = _run_with_progress(ingestor, fh, path)
            result = {"source": path, **summary.as_dict()}
            results.append(result)
            if not as_json:
                _print_summary(result)
            failed |= bool(summary.rejected) and strict
            if summary.interrupted:
                interrupted = True
                break
    finally:
        if sink:
            sink.close()
    if as_json:
        click.echo(
            orjson.dumps(results if len(results) > 1 else results[0], option=orjson.OPT_INDENT_2)
        )
    if interrupted:
        click.echo(
            "interrupted: committed batches are kept; run the same command again to finish",
            err=True,
        )
        sys.exit(130)
    if failed:
        sys.exit(1)


def _run_with_progress(ingestor: Any, fh: BinaryIO, path: str) -> Any:
    show = sys.stderr.isatty()
    if not show:
        return ingestor.ingest(fh)
    with click.progressbar(
        length=0, label=f"ingesting {path}", file=sys.stderr, show_pos=True, show_eta=False
    ) as bar:
        return ingestor.ingest(fh, progress=bar.update)


def _print_summary(r: dict[str, Any]) -> None:
    acc = r["accepted"]
    click.echo(
        f"{r['source']}: read {r['read']} records; accepted {acc['account']} accounts, "
        f"{acc['payment_method']} payment methods, {acc['request']} requests"
        f" ({r['duplicate_requests']} already stored); rejected {r['rejected']}",
        err=True,
    )
    for e in r["errors"]:
        click.echo(f"  line {e['line']}: {e['field']}: {e['reason']}", err=True)
    if r["errors_not_shown"]:
        click.echo(f"  ... and {r['errors_not_shown']} more (use --errors FILE for all)", err=True)
    if r["strict_rolled_back"]:
        click.echo("  --strict: the file had errors, so nothing from it was stored", err=True)


# ---------------------------------------------------------------- stats / schema
@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object (for scripts).")
def stats(as_json: bool) -> None:
    """Counts of stored data and of the latest detection run's clusters."""
    from app.db import transaction
    from app.stats import collect

    ctx = _ctx()
    with transaction(ctx.sessions) as session:
        data = collect(session)
    if as_json:
        click.echo(orjson.dumps(data))
    else:
        for k, v in data.items():
            click.echo(f"{k:>18}: {v}")


@main.command()
def schema() -> None:
    """Print the JSON Schema of an ingest record (one NDJSON line)."""
    from app.ingest.records import json_schema

    click.echo(orjson.dumps(json_schema(), option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()

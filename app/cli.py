"""The ``hydrascope`` command line."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import IO, Any, BinaryIO

import click
import orjson

from app.auth.apikeys import ROLES
from app.core.config import ConfigError
from app.core.context import Context, default_context
from app.core.db import SchemaError
from app.exports.formats import EXPORT_FORMATS, REDACTIONS
from graph.types import ENGINES
from worlds.world import KINDS, STYLES


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


class _Commands(click.Group):
    """Database failures end a command with one line that names the problem (and never the
    data involved), not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

        from app.core.errors import describe

        try:
            return super().invoke(ctx)
        except (ArgumentError, NoSuchModuleError) as exc:
            raise click.ClickException(
                "HYDRASCOPE_DATABASE_URL is not a database URL this service can use "
                "(sqlite:///path/to/file.db or postgresql://user@host:5432/name)"
            ) from exc
        except SQLAlchemyError as exc:
            raise click.ClickException(describe(exc)) from exc


@click.group(cls=_Commands)
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
    from app.core.db import upgrade

    ctx = _ctx(check_schema=False)
    upgrade(ctx.engine, revision)
    click.echo(f"database at {revision}", err=True)


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (``base`` removes everything)."""
    from app.core.db import downgrade

    ctx = _ctx(check_schema=False)
    downgrade(ctx.engine, revision)
    click.echo(f"database at {revision}", err=True)


@db.command("current")
def db_current() -> None:
    """Print the database's revision and the code's head revision."""
    from app.core.db import current_revision, head_revision

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
    from app.ingest import workers as worker_pool

    ctx = _ctx()
    if workers is None:
        workers = ctx.settings.ingest_workers
    _hasher_or_fail(ctx)
    # the workers' imports run beside this process's own (app.ingest.workers)
    prestarted = worker_pool.start(workers) if workers > 0 else None
    from app.ingest.service import make_ingestor

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

            ingestor = make_ingestor(
                ctx,
                strict=strict,
                workers=workers,
                on_error=write_error,
                sqlite_cache_mib=ctx.settings.ingest_sqlite_cache_mib,
            )
            with _open_input(path) as fh, _stopped_like_ctrl_c():
                ingestor.prestarted, prestarted = prestarted, None  # the first file's
                summary = _run_with_progress(ingestor, fh, path)
            result = {"source": path, **summary.as_dict()}
            results.append(result)
            if not as_json:
                _print_summary(result)
            failed |= bool(summary.rejected) and strict
            if summary.input_error:  # what came before the break is stored: say so, exit 1
                click.echo(f"error: {path}: {summary.input_error}", err=True)
                failed = True
            if summary.interrupted:
                interrupted = True
                break
    finally:
        if prestarted is not None:  # not used (the first input could not be opened)
            prestarted.shutdown(wait=False, cancel_futures=True)
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


@contextlib.contextmanager
def _stopped_like_ctrl_c() -> Iterator[None]:
    """SIGTERM and SIGHUP (a service manager stopping the job, a closed terminal) stop an
    ingest as Ctrl-C does: committed batches are kept, and its worker processes and spool
    directory (prepared batches, personal data: app.ingest.spool) are cleaned up, which
    the default action, ending the process at once, would skip."""
    import signal

    def stop(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    saved: dict[int, Any] = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is None:
            continue
        try:
            saved[number] = signal.signal(number, stop)
        except ValueError:  # not the main thread: leave the signals alone
            break
    try:
        yield
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)


#: How often a long command says how far it got when its output is not a terminal.
PROGRESS_EVERY_SECONDS = 10.0


def _run_with_progress(ingestor: Any, fh: BinaryIO, path: str) -> Any:
    """A progress bar by bytes read on a terminal (a line counter for standard input)."""
    if not sys.stderr.isatty():  # a log: a line every PROGRESS_EVERY_SECONDS, no bar
        import time

        state = {"lines": 0, "next": time.monotonic() + PROGRESS_EVERY_SECONDS}

        def note(n: int) -> None:
            state["lines"] += n
            if time.monotonic() >= state["next"]:
                state["next"] = time.monotonic() + PROGRESS_EVERY_SECONDS
                click.echo(f"  {path}: {state['lines']:,} lines so far", err=True)

        return ingestor.ingest(fh, progress=note)
    if path == "-":
        seen = {"lines": 0}

        def count(n: int) -> None:
            seen["lines"] += n
            click.echo(f"\r  {seen['lines']:,} lines", nl=False, err=True)

        summary = ingestor.ingest(fh, progress=count)
        click.echo("", err=True)
        return summary
    size = os.fstat(fh.fileno()).st_size
    with click.progressbar(length=size, label=f"ingesting {path}", file=sys.stderr) as bar:

        def advance(_lines: int) -> None:
            bar.update(max(0, fh.tell() - bar.pos))

        summary = ingestor.ingest(fh, progress=advance)
        bar.update(size - bar.pos)
        return summary


def _count(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless one (``1 request``, ``2 requests``)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _print_summary(r: dict[str, Any]) -> None:
    acc = r["accepted"]
    click.echo(
        f"{r['source']}: read {_count(r['read'], 'record')}; accepted "
        f"{_count(acc['account'], 'account')}, {_count(acc['payment_method'], 'payment method')}, "
        f"{_count(acc['request'], 'request')}"
        f" ({r['duplicate_requests']} already stored); rejected {r['rejected']}",
        err=True,
    )
    for e in r["errors"]:
        click.echo(f"  line {e['line']}: {e['field']}: {e['reason']}", err=True)
    if r["errors_not_shown"]:
        click.echo(f"  ... and {r['errors_not_shown']} more (use --errors FILE for all)", err=True)
    if r["strict_rolled_back"]:
        click.echo("  --strict: the file had errors, so nothing from it was stored", err=True)


# ---------------------------------------------------------------- serve
@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the HTTP API (refuses a database whose schema is behind)."""
    import uvicorn

    ctx = _ctx()
    _hasher_or_fail(ctx)
    ctx.close()
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"hydrascope API on http://{shown}:{port}  (console /console, docs /docs; "
        f"{workers} worker{'s' if workers > 1 else ''}; Ctrl-C stops)",
        err=True,
    )
    uvicorn.run(
        "app.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,  # app/web/observability.py writes one JSON line per request
    )


# ---------------------------------------------------------------- API keys
def _cli_actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


@main.group()
def apikey() -> None:
    """API keys for the HTTP API (roles: viewer < reviewer < admin)."""


@apikey.command("create")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", required=True, help="Who or what uses the key.")
def apikey_create(role: str, name: str) -> None:
    """Create a key and print it, alone on stdout: it is shown only this once."""
    from app.auth.apikeys import create_key
    from app.core.db import transaction

    ctx = _ctx()
    try:
        with transaction(ctx.sessions) as s:
            row, plaintext = create_key(s, name=name, role=role, actor=_cli_actor())
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"created {role} key {row.id} ({name}); store it now, it is not shown again", err=True
    )
    click.echo(plaintext)


@apikey.command("list")
def apikey_list() -> None:
    """Keys with their role and state (never the keys themselves)."""
    from app.auth.apikeys import list_keys

    ctx = _ctx()
    with ctx.sessions() as s:
        for k in list_keys(s):
            state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active"
            click.echo(f"{k.id}  {k.role:<8}  {state:<18}  {k.name}")


@apikey.command("revoke")
@click.argument("key_id")
def apikey_revoke(key_id: str) -> None:
    """Revoke a key by its id (the part after ``hs_``)."""
    from app.auth.apikeys import KeyError_, revoke_key
    from app.core.db import transaction

    ctx = _ctx()
    try:
        with transaction(ctx.sessions) as s:
            revoke_key(s, key_id, actor=_cli_actor())
    except KeyError_ as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"revoked {key_id}", err=True)


# ---------------------------------------------------------------- exports
@main.command()
@click.argument("cluster_id")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default="bundle",
    show_default=True,
)
@click.option(
    "--redaction",
    type=click.Choice(REDACTIONS),
    default="internal",
    show_default=True,
    help="shareable: for other companies (no clear personal data).",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export(cluster_id: str, fmt: str, redaction: str, output: Path) -> None:
    """Export a cluster's evidence to a file (audited)."""
    from app.core.errors import NotFound
    from app.exports.service import export as run_export
    from app.exports.signing import SigningKeyError

    ctx = _ctx()
    _hasher_or_fail(ctx)
    # the file is opened before the export runs: an export is audited when it is made, and
    # a path that cannot be written once left an audited export that no file held. A
    # regular file is written beside and renamed into place (never half written); a
    # symlink, a device (/dev/stdout) or a pipe is written as it is.
    direct = output.is_symlink() or (output.exists() and not output.is_file())
    target = output if direct else output.with_name(f".{output.name}.partial")
    try:
        fh = target.open("wb")
    except OSError as exc:
        raise click.ClickException(
            f"{output}: cannot write there ({exc.strerror}); nothing was exported"
        ) from exc
    try:
        with fh:
            try:
                out = run_export(ctx, cluster_id, fmt, redaction, actor=_cli_actor())
            except NotFound as exc:
                raise click.ClickException(exc.detail) from exc
            except SigningKeyError as exc:
                raise click.ClickException(str(exc)) from exc
            try:
                fh.write(out.content)
                fh.flush()
                if not direct:
                    target.replace(output)
            except OSError as exc:
                raise click.ClickException(
                    f"{output}: export {out.export_id} was made and audited but could not be "
                    f"written ({exc.strerror}); run the export again"
                ) from exc
    except BaseException:
        if not direct:
            target.unlink(missing_ok=True)
        raise
    click.echo(f"wrote {output} ({len(out.content):,} bytes, export {out.export_id})", err=True)


@main.command()
@click.argument("bundle_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The signer's Ed25519 public key (PEM) you trust; without it a signature is only "
    "checked against the key inside the bundle.",
)
def verify(bundle_path: Path, public_key: Path | None) -> None:
    """Check an evidence bundle: every file's SHA-256, the manifest, the signature."""
    from app.exports.bundle import verify as check

    v = check(bundle_path, public_key.read_text() if public_key else None)
    for p in v.problems:
        click.echo(f"FAIL {p}", err=True)
    if not v.ok:
        raise SystemExit(1)
    m = v.manifest
    click.echo(
        f"OK {bundle_path}: export {m.get('export_id')}, cluster {m.get('cluster_id')}, "
        f"{len(m.get('files', {}))} files intact"
    )
    if v.signed_by:
        trust = "trusted key" if v.trusted else "key inside the bundle (pass --public-key)"
        click.echo(f"signed by {v.signed_by} ({trust})")
    else:
        click.echo("not signed")


@main.command("export-key")
@click.option("--public-out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export_key(public_out: Path) -> None:
    """Make an Ed25519 signing key: the private PEM on stdout (put it in
    HYDRASCOPE_EXPORT_SIGNING_KEY), the public PEM to --public-out (give it to recipients)."""
    from app.exports import signing

    pem = signing.new_private_pem()
    public_out.write_text(signing.public_pem(signing.load_private(pem).public_key()))
    click.echo(pem, nl=False)


# ---------------------------------------------------------------- runs
@main.group()
def runs() -> None:
    """Detection runs: mark one failed when its process is known to be gone."""


@runs.command("fail")
@click.argument("run_id")
@click.option("--reason", required=True, help="Why (kept on the run and in the audit log).")
def runs_fail(run_id: str, reason: str) -> None:
    """Mark a running detection run failed now (a run also fails by itself once it has sent
    no heartbeat for five minutes)."""
    from app.detection.service import NotRunning, fail_run

    ctx = _ctx()
    try:
        fail_run(ctx, run_id, actor=_cli_actor(), reason=reason)
    except NotRunning as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"run {run_id} marked failed", err=True)


# ---------------------------------------------------------------- stats / schema
@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object (for scripts).")
def stats(as_json: bool) -> None:
    """Counts of stored data and of the latest detection run's clusters."""
    from app.ops.stats import collect

    ctx = _ctx()
    with ctx.sessions() as session:  # a read: no commit, so servers' caches stay valid
        data = collect(session)
    if as_json:
        click.echo(orjson.dumps(data))
    else:
        for k, v in data.items():
            click.echo(f"{k:>18}: {v}")


@main.command()
@click.option(
    "--older-than", "days", type=click.IntRange(1), required=True, help="Retention in days."
)
@click.option("--dry-run", is_flag=True, help="Count what would go; delete nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def purge(days: int, dry_run: bool, yes: bool) -> None:
    """Delete personal and detection data older than the retention period.

    Clusters under review, confirmed or actioned (and their members' data) are kept, as are
    review decisions and the audit log. See docs/architecture.md, "Retention".
    """
    from app.core.db import transaction
    from app.ops.retention import purge as run_purge

    ctx = _ctx()
    window = ctx.settings.activity_window_seconds
    if not dry_run and not yes:
        with ctx.sessions() as s:  # a preview commits nothing
            plan = run_purge(s, days, actor=_cli_actor(), window_seconds=window, dry_run=True)
        click.echo(orjson.dumps(plan, option=orjson.OPT_INDENT_2).decode(), err=True)
        click.confirm("delete these rows?", abort=True, err=True)
    if dry_run:
        with ctx.sessions() as s:
            out = run_purge(s, days, actor=_cli_actor(), window_seconds=window, dry_run=True)
    else:
        with transaction(ctx.sessions) as s:
            out = run_purge(s, days, actor=_cli_actor(), window_seconds=window)
    click.echo(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())


@main.command()
def schema() -> None:
    """Print the JSON Schema of an ingest record (one NDJSON line)."""
    from app.ingest.records import json_schema

    click.echo(orjson.dumps(json_schema(), option=orjson.OPT_INDENT_2).decode())


# ---------------------------------------------------------------- detection
def _detect_params(ctx: Context, engine: str | None, resolution: float | None, seed: int) -> Any:
    from app.detection.service import params_from_settings

    return params_from_settings(ctx.settings, engine=engine, resolution=resolution, seed=seed)


@main.command()
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default=None,
    help="Community detection engine (default leiden-cpm).",
)
@click.option(
    "--resolution", type=float, default=None, help="Engine resolution (default per engine)."
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
def detect(engine: str | None, resolution: float | None, seed: int, as_json: bool) -> None:
    """Link accounts, find communities, score and explain them; record the run."""
    from app.core.heap import single_arena
    from app.detection.service import RunInProgress
    from app.detection.service import detect as run

    single_arena()  # before the run's threads start (app.core.heap)
    ctx = _ctx()
    params = _detect_params(ctx, engine, resolution, seed)
    try:
        out = run(ctx, params, progress=lambda st: click.echo(f"  {st}", err=True))
    except RunInProgress as exc:
        raise click.ClickException(
            f"{exc}; wait for it, or if its process is gone: hydrascope runs fail {exc.run_id}"
        ) from exc
    if as_json:
        click.echo(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode())
    else:
        c = out["counts"]
        click.echo(
            f"run {out['run_id']}: {_count(c['clusters'], 'cluster')}, "
            f"{c['flagged_clusters']} flagged "
            f"({c['flagged_accounts']} accounts) in {out['timings']['total']:.1f} s",
            err=True,
        )


@main.command()
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "table"]), default="table", show_default=True
)
@click.option(
    "--flagged-only", is_flag=True, help="Only clusters at or above the review threshold."
)
@click.option("--limit", type=int, default=None, help="At most this many clusters.")
def clusters(fmt: str, flagged_only: bool, limit: int | None) -> None:
    """The latest completed run's clusters, highest score first."""
    from app.clusters.repository import iter_run_clusters
    from app.detection.repository import latest_completed_run

    ctx = _ctx()
    with ctx.sessions() as s:  # a read: no commit
        run = latest_completed_run(s)
        if run is None:
            raise click.ClickException("no completed detection run yet: run `hydrascope detect`")
        shown = 0
        for c in iter_run_clusters(s, run.id):
            if flagged_only and not c["flagged"]:
                continue
            if limit is not None and shown >= limit:
                break
            shown += 1
            if fmt == "jsonl":
                c.pop("summary")
                click.echo(orjson.dumps(c))
            else:
                if shown == 1:  # the columns named once, above the first row
                    click.echo(
                        f"{'':4} {'score':<5} {'size':>6} {'cluster':<22} {'status':<10} why"
                    )
                mark = "FLAG" if c["flagged"] else "    "
                click.echo(
                    f"{mark} {c['score']:.3f} {c['size']:>6} {c['id']:<22} {c['status']:<10} "
                    f"{c['summary']}"
                )


@main.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("world"),
    show_default=True,
    help="Directory for world.ndjson.gz and truth.csv.",
)
@click.option("--benign", type=click.IntRange(0), default=20_000, show_default=True)
@click.option(
    "--days",
    type=click.IntRange(1, 365),
    default=None,
    help="Days of traffic [default: 14 classic, 28 realistic].",
)
@click.option(
    "--copies",
    type=click.IntRange(0),
    default=1,
    show_default=True,
    help="Copies of each planted network style.",
)
@click.option(
    "--scale", type=float, default=1.0, show_default=True, help="Network size multiplier."
)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    default="classic",
    show_default=True,
    help="classic: templated prompts, the loud network styles (separable by construction); "
    "realistic: mostly one-off prompts, more look-alikes, adaptive networks, 28 days.",
)
@click.option(
    "--style",
    "styles",
    type=click.Choice(STYLES),
    multiple=True,
    help="Plant only these network styles (repeatable; default: all of the kind's styles).",
)
def generate(
    out_dir: Path,
    benign: int,
    days: int | None,
    copies: int,
    scale: float,
    seed: int,
    kind: str,
    styles: tuple[str, ...],
) -> None:
    """Write a synthetic platform with planted networks and its ground truth."""
    from worlds.files import write_world
    from worlds.world import (
        NetworkSpec,
        WorldParams,
        generate_world,
        realistic_params,
        scaled_networks,
    )

    if kind == "realistic":
        params = realistic_params(seed, benign, styles or None, scale)
        nets = tuple(
            NetworkSpec(s.name if copies == 1 else f"{s.name}_{c:03d}", s.style, s.size)
            for c in range(copies)
            for s in params.networks
        )
        params = replace(params, networks=nets, days=days or params.days)
    else:
        nets = scaled_networks(copies, scale)
        if styles:
            nets = tuple(s for s in nets if s.style in styles)
        params = WorldParams(n_benign=benign, days=days or 14, seed=seed, networks=nets)
    click.echo(
        f"generating {benign:,} ordinary accounts over {params.days} days and "
        f"{len(params.networks)} networks...",
        err=True,
    )
    world = generate_world(params)
    click.echo(f"writing {world.n_requests:,} requests to {out_dir}/ ...", err=True)
    data, truth = write_world(world, out_dir)
    click.echo(
        f"{len(world.accounts)} accounts, {len(world.payments)} payment methods, "
        f"{world.n_requests} requests -> {data}; ground truth -> {truth}",
        err=True,
    )


@main.command()
@click.option(
    "--truth",
    "truth_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="CSV with header account_id,label.",
)
@click.option("--json", "as_json", is_flag=True)
def evaluate(truth_path: Path, as_json: bool) -> None:
    """Precision, recall and benign false-positive rate of the latest run's flagged clusters."""
    from app.clusters.repository import iter_run_clusters
    from app.detection.repository import latest_completed_run
    from graph import evaluate as score_against
    from worlds.files import read_truth

    ctx = _ctx()
    try:
        truth = read_truth(truth_path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    with ctx.sessions() as s:  # a read: no commit
        run = latest_completed_run(s)
        if run is None:
            raise click.ClickException("no completed detection run yet: run `hydrascope detect`")
        found = [(c["members"], c["score"], c["flagged"]) for c in iter_run_clusters(s, run.id)]
    m = score_against(found, truth)
    if as_json:
        click.echo(orjson.dumps(m, option=orjson.OPT_INDENT_2).decode())
        return
    click.echo(
        f"precision {m['precision']:.4f}  recall {m['recall']:.4f}  "
        f"benign FPR {m['benign_fpr']:.4%}  average precision {m['average_precision']:.4f}"
    )
    for net, v in m["networks"].items():
        click.echo(
            f"  {net:<20} size {v['size']:>6}  recall {v['recall']:.3f}  "
            f"flagged clusters {v['flagged_clusters']}"
        )


@main.command()
@click.option(
    "--dir", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("demo")
)
@click.option("--benign", type=click.IntRange(0), default=5_000, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--serve/--no-serve", default=False, help="Then serve the API on 127.0.0.1.")
@click.option("--port", type=int, default=8000, show_default=True)
def demo(out_dir: Path, benign: int, seed: int, serve: bool, port: int) -> None:
    """Generate a small world, ingest it, detect, print the top clusters; with --serve,
    create a demo admin key and serve the API and console on 127.0.0.1."""
    from app.core.db import upgrade
    from app.detection.service import detect as run
    from app.ingest.service import make_ingestor
    from worlds.files import write_world
    from worlds.world import WorldParams, generate_world

    out_dir.mkdir(parents=True, exist_ok=True)  # `make demo` keeps its database in here
    ctx = _ctx(check_schema=False)
    _hasher_or_fail(ctx)
    upgrade(ctx.engine)
    # each step says what it is doing before it starts: a new user otherwise watched a
    # silent terminal for the half minute the world takes to generate
    click.echo(f"generating a synthetic platform ({benign:,} ordinary accounts)...", err=True)
    world = generate_world(WorldParams(n_benign=benign, seed=seed))
    data, truth = write_world(world, out_dir)
    click.echo(
        f"generated {len(world.accounts)} accounts, {world.n_requests} requests -> {data}", err=True
    )
    click.echo("ingesting...", err=True)
    with data.open("rb") as fh:
        summary = make_ingestor(ctx, workers=ctx.settings.ingest_workers).ingest(fh)
    click.echo(f"ingested {summary.accepted}; detecting...", err=True)
    out = run(ctx, _detect_params(ctx, None, None, 0))
    click.echo(
        f"detected {_count(out['counts']['clusters'], 'cluster')}, "
        f"{out['counts']['flagged_clusters']} flagged "
        f"in {out['timings']['total']:.1f} s\n",
        err=True,
    )
    ctx_click = click.get_current_context()
    ctx_click.invoke(clusters, fmt="table", flagged_only=True, limit=15)
    click.echo(f"\nground truth: {truth}  (hydrascope evaluate --truth {truth})", err=True)
    if serve:
        _serve_demo(ctx, port)


def _serve_demo(ctx: Context, port: int) -> None:
    import uvicorn

    from app.auth.apikeys import create_key
    from app.core.db import transaction
    from app.web.app import create_app

    with transaction(ctx.sessions) as s:
        _, key = create_key(s, name="demo", role="admin", actor=_cli_actor())
    base = f"http://127.0.0.1:{port}"
    click.echo(
        f"\ndemo API key (admin, shown once): {key}\n"
        f"  console:  {base}/console  (paste the key)\n"
        f"  API docs: {base}/docs\n"
        f"  try:      curl -H 'Authorization: Bearer {key}' '{base}/v1/clusters?flagged=true'\n"
        "Ctrl-C stops the server.\n",
        err=True,
    )
    uvicorn.run(create_app(ctx), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()

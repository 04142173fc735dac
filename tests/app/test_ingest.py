"""Ingest of the contract: good records kept, bad ones refused with line, field and reason."""

from __future__ import annotations

import gc
import gzip
import io
import logging
import os
import sys
import time
import types
import weakref
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select, text

from app.core.context import Context
from app.core.timestamps import aware
from app.detection.loader import load_input
from app.ingest import repository, workers
from app.ingest.prepare import WORKER_NICENESS
from app.ingest.reader import maybe_gunzip, plain_file_path
from app.ingest.service import Ingestor, make_ingestor
from app.models import Account, Observation, PaymentMethod
from tests.helpers import SAMPLE, account, dump_tables, ndjson, request

CARD = "4111 1111 1111 1111"


def ingest_bytes(ctx: Context, data: bytes, **kw: object):  # type: ignore[no-untyped-def]
    return make_ingestor(ctx, **kw).ingest(io.BytesIO(data))  # type: ignore[arg-type]


def test_contract_sample_is_ingested(ctx: Context) -> None:
    s = ingest_bytes(ctx, SAMPLE.read_bytes())
    assert s.rejected == 0
    assert s.accepted == {"account": 2, "payment_method": 2, "request": 3}
    with ctx.sessions() as session:
        counts = repository.table_counts(session)
        assert counts == {"accounts": 2, "payment_methods": 2, "requests": 3}
        # acct_003 has requests but no account record yet: its observations are kept
        obs = session.scalars(select(Observation.account_id).distinct()).all()
        assert "acct_003" in obs


@pytest.mark.parametrize(
    ("line", "field", "reason"),
    [
        (b"{not json", "(line)", "malformed JSON"),
        (b"[1, 2]", "(line)", "JSON object"),
        (orjson.dumps({"type": "acount", "id": "a"}), "type", "unknown record type"),
        (orjson.dumps({"id": "a"}), "type", "missing record type"),
        (orjson.dumps(account(1, emial="a@b.c")), "emial", "unknown field"),
        (orjson.dumps(account(1, created_at="2026-01-04")), "created_at", "time zone"),
        (orjson.dumps(account(1, created_at="2026-01-04T09:12:44")), "created_at", "time zone"),
        (orjson.dumps(account(1, created_at=1767000000)), "created_at", "RFC 3339"),
        (orjson.dumps(account(1, signup_ip="300.1.1.1")), "signup_ip", "IPv4 or IPv6"),
        (orjson.dumps(account(1, country="Spain")), "country", "pattern"),
        (orjson.dumps(account(1, attributes={"k": 5})), "attributes.k", "string"),
        (orjson.dumps(request("a", ip="1.2.3")), "ip", "IPv4 or IPv6"),
        (orjson.dumps(request("a", ts="yesterday")), "ts", "RFC 3339"),
        (orjson.dumps(request("a", input_tokens=-1)), "input_tokens", "greater than or equal"),
        (orjson.dumps(request("a", input_tokens="12")), "input_tokens", "integer"),
        (orjson.dumps({"type": "request", "account_id": "a", "ip": "1.1.1.1"}), "ts", "missing"),
        (
            orjson.dumps(
                {"type": "payment_method", "account_id": "a", "fingerprint": "f", "exp_month": 13}
            ),
            "exp_month",
            "less than or equal",
        ),
        (
            orjson.dumps(
                {"type": "payment_method", "account_id": "a", "fingerprint": "f", "bin": "12ab56"}
            ),
            "bin",
            "pattern",
        ),
        (orjson.dumps(account("x" * 129)), "id", "at most 128"),
    ],
)
def test_bad_records_are_refused_and_good_ones_kept(
    ctx: Context, line: bytes, field: str, reason: str
) -> None:
    data = ndjson(account("good"), line, request("acct_good", id="r1"))
    s = ingest_bytes(ctx, data)
    assert s.rejected == 1
    assert s.accepted["account"] == 1 and s.accepted["request"] == 1
    err = s.errors[0]
    assert err.line == 2
    assert err.field == field
    assert reason.lower() in err.reason.lower()


def test_blank_lines_and_crlf_are_skipped_and_counted_in_line_numbers(ctx: Context) -> None:
    good = ndjson(account("good")).rstrip(b"\n")
    data = good + b"\r\n\n   \r\n" + b'{"type": "account", "id": 7}\r\n' + good + b"\n"
    s = ingest_bytes(ctx, data)
    assert s.read == 3 and s.accepted["account"] == 2 and s.rejected == 1
    assert {(e.line, e.field) for e in s.errors} == {(4, "id"), (4, "created_at")}


@pytest.mark.parametrize(
    "record",
    [
        request("a", prompt=f"please charge {CARD} now"),
        account(1, attributes={"note": CARD.replace(" ", "-")}),
        account(1, name="4111111111111111"),
        {"type": "payment_method", "account_id": "a", "fingerprint": "4111111111111111"},
        request("a", input_tokens=4111111111111111),
    ],
)
def test_card_numbers_are_refused_and_never_stored(
    ctx: Context, record: dict[str, object], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    sink: list[str] = []
    s = make_ingestor(
        ctx, on_error=lambda e: sink.append(orjson.dumps(e.as_dict()).decode())
    ).ingest(
        io.BytesIO(ndjson(account("ok"), record))  # type: ignore[arg-type]
    )
    assert s.rejected == 1
    assert "payment card number" in s.errors[0].reason
    assert s.errors[0].field in {"prompt", "attributes.note", "name", "fingerprint", "input_tokens"}
    digits = CARD.replace(" ", "")
    text_out = repr(s.as_dict()) + "".join(sink) + caplog.text
    assert digits not in text_out and CARD not in text_out and "4111-1111" not in text_out
    dumped = repr(dump_tables(ctx.engine))
    assert digits not in dumped and "1111 1111" not in dumped and "1111-1111" not in dumped


def test_card_number_written_with_json_escapes_is_refused(ctx: Context) -> None:
    # \u0034 is "4": a byte scan alone would see "111 1111 1111 1111" (12 digits)
    line = (
        b'{"type":"request","account_id":"a","ts":"2026-01-05T14:00:03Z","ip":"1.2.3.4",'
        b'"prompt":"charge \\u0034111 1111 1111 1111 now"}'
    )
    s = ingest_bytes(ctx, ndjson(account("ok")) + line + b"\n")
    assert s.rejected == 1 and s.errors[0].field == "prompt"
    assert "payment card number" in s.errors[0].reason
    assert s.accepted["account"] == 1 and s.accepted["request"] == 0


def test_a_long_number_that_fails_luhn_is_accepted(ctx: Context) -> None:
    s = ingest_bytes(ctx, ndjson(request("a", prompt="order 4111111111111112 shipped")))
    assert s.rejected == 0 and s.accepted["request"] == 1


@pytest.mark.parametrize("json_each", [True, False], ids=["json_each", "executemany"])
def test_reingest_changes_nothing(
    ctx: Context, monkeypatch: pytest.MonkeyPatch, json_each: bool
) -> None:
    # SQLite before 3.38 (no JSON built in) inserts request digests row by row
    monkeypatch.setattr("app.ingest.repository.SQLITE_HAS_JSON", json_each)
    data = SAMPLE.read_bytes()
    ingest_bytes(ctx, data)
    before = dump_tables(ctx.engine)
    s = ingest_bytes(ctx, data)
    assert s.accepted["request"] == 0 and s.duplicate_requests == 3
    assert dump_tables(ctx.engine) == before


def test_resent_account_is_updated_not_duplicated(ctx: Context) -> None:
    ingest_bytes(ctx, ndjson(account(1, email="Old.Name+x@gmail.com", country="ES")))
    ingest_bytes(ctx, ndjson(account(1, email="new@example.com")))
    with ctx.sessions() as session:
        rows = session.scalars(select(Account)).all()
    assert len(rows) == 1
    assert rows[0].email == "new@example.com"
    assert rows[0].country is None  # the latest record describes the account


def test_email_is_normalised_before_linking(ctx: Context) -> None:
    ingest_bytes(
        ctx,
        ndjson(account(1, email="J.Doe+promo@GoogleMail.com"), account(2, email="jdoe@gmail.com")),
    )
    with ctx.sessions() as session:
        keys = session.scalars(select(Account.email_key)).all()
    assert keys[0] == keys[1] and keys[0] is not None


def test_request_id_is_stored_once_even_with_other_content(ctx: Context) -> None:
    ingest_bytes(ctx, ndjson(request("a", id="r1"), request("a", id="r1", ip="10.0.0.1")))
    ingest_bytes(ctx, ndjson(request("a", id="r1", ip="10.0.0.2")))
    with ctx.sessions() as session:
        assert repository.table_counts(session)["requests"] == 1
        n = session.scalar(text("SELECT sum(n) FROM observations WHERE kind = 1"))
    assert n == 1


def test_payment_method_natural_key(ctx: Context) -> None:
    pm = {"type": "payment_method", "account_id": "a", "fingerprint": "pmfp_1", "brand": "visa"}
    ingest_bytes(ctx, ndjson(pm, {**pm, "brand": "mastercard"}))
    ingest_bytes(ctx, ndjson(pm))
    with ctx.sessions() as session:
        rows = session.scalars(select(PaymentMethod)).all()
    assert [r.brand for r in rows] == ["visa"]


def test_timestamps_with_an_offset_are_stored_as_the_instant_they_name(ctx: Context) -> None:
    # the same instant three ways: SQLite used to keep the wall-clock text and drop the offset
    instant = datetime(2026, 1, 4, 9, 12, 44, tzinfo=UTC)
    records = [
        account(1, created_at="2026-01-04T11:12:44+02:00"),
        account(2, created_at="2026-01-04T09:12:44Z"),
        account(3, created_at="2026-01-04T04:12:44-05:00"),
        {
            "type": "payment_method",
            "account_id": "acct_1",
            "fingerprint": "pmfp_tz",
            "added_at": "2026-01-04T14:42:44+05:30",
        },
    ]
    ingest_bytes(ctx, ndjson(*records))
    with ctx.sessions() as session:
        created = [
            aware(a.created_at) for a in session.scalars(select(Account).order_by(Account.id))
        ]
        added = aware(session.scalars(select(PaymentMethod.added_at)).one())
    assert created == [instant] * 3 and added == instant
    with ctx.engine.connect() as conn:  # what detection reads (sign-up bursts, account age)
        inp = load_input(conn, ctx.settings.activity_window_seconds)[0]
    assert inp.accounts.created.tolist() == [int(instant.timestamp())] * 3


def test_strict_mode_is_all_or_nothing(ctx: Context) -> None:
    s = ingest_bytes(ctx, ndjson(account(1), b"{oops", request("acct_1")), strict=True)
    assert s.strict_rolled_back and s.rejected == 1
    with ctx.sessions() as session:
        assert repository.table_counts(session) == {
            "accounts": 0,
            "payment_methods": 0,
            "requests": 0,
        }
    s = ingest_bytes(ctx, ndjson(account(1), request("acct_1")), strict=True)
    assert not s.strict_rolled_back and s.accepted["request"] == 1


def test_gzip_input_is_detected_by_content(ctx: Context) -> None:
    s = ingest_bytes(ctx, gzip.compress(SAMPLE.read_bytes()))
    assert s.accepted == {"account": 2, "payment_method": 2, "request": 3}


def _many_lines(n: int) -> bytes:
    recs: list[dict[str, object]] = []
    for i in range(n):
        recs.append(account(i, email=f"user{i}@example.com"))
        recs.append(
            request(
                f"acct_{i}", prompt=f"Translate 'word {i}' to French", ip=f"10.0.{i % 7}.{i % 200}"
            )
        )
        recs.append(request(f"acct_{i}", ts="2026-01-06T10:00:00Z", prompt="Summarise this text"))
    return ndjson(*recs)


def _interrupt_usage_write(monkeypatch: pytest.MonkeyPatch, on_call: int):  # type: ignore[no-untyped-def]
    """Ctrl-C inside the n-th usage write (once per transaction); returns the real writer."""
    real = repository.upsert_usage
    calls = {"n": 0}

    def crash(session, df):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == on_call:
            raise KeyboardInterrupt
        real(session, df)

    monkeypatch.setattr(repository, "upsert_usage", crash)
    return real


def test_interrupted_ingest_keeps_whole_batches_and_a_rerun_completes(
    ctx: Context, other_ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _many_lines(150)  # 450 lines, batches of 100
    real = _interrupt_usage_write(monkeypatch, on_call=3)
    s = ingest_bytes(ctx, data)
    assert s.interrupted and s.committed_through_line == 200
    with ctx.sessions() as session:
        stored = repository.table_counts(session)
    assert stored["requests"] < 300  # the third batch was rolled back whole
    assert stored["accounts"] == 67  # lines 1-200 hold accounts 0..66
    monkeypatch.setattr(repository, "upsert_usage", real)
    s = ingest_bytes(ctx, data)
    assert not s.interrupted

    ingest_bytes(other_ctx, data)
    skip = ("alembic_version", "prompt_samples")
    assert dump_tables(ctx.engine, skip) == dump_tables(other_ctx.engine, skip)


def _time_ordered_lines(accounts: int, rounds: int) -> bytes:
    """Requests in time order, every account in every round: each batch repeats the same
    (account, IP / user agent / model) observations, as real logs do."""
    recs: list[dict[str, object]] = []
    for r in range(rounds):
        for i in range(accounts):
            recs.append(
                request(
                    f"acct_{i}",
                    ts=f"2026-01-05T{r:02d}:{i % 60:02d}:00Z",
                    ip=f"10.1.{i}.7",
                    user_agent=f"agent/{i % 3}",
                    model="m-1",
                    input_tokens=r + 1,
                    prompt=f"Round {r}: summarise 'doc {i}'",
                )
            )
    return ndjson(*recs)


@pytest.mark.parametrize(
    ("batch_lines", "commit_lines"),
    [(100, 300), (40, 480)],
    ids=["three-batches", "twelve-batches-compacted"],
)
def test_transactions_of_several_batches_store_the_same_as_one_batch_each(
    ctx: Context, other_ctx: Context, batch_lines: int, commit_lines: int
) -> None:
    data = _time_ordered_lines(accounts=40, rounds=12)  # 480 lines
    merged = make_ingestor(ctx)
    # rows merged across the batches of a transaction before they are written; past
    # app.ingest.merge._COMPACT_EVERY batches, merged into one part on the way
    merged.batch_lines, merged.commit_lines = batch_lines, commit_lines
    s = merged.ingest(io.BytesIO(data))
    assert s.accepted["request"] == 480 and s.committed_through_line == 480
    ingest_bytes(other_ctx, data)  # one batch per transaction
    assert dump_tables(ctx.engine) == dump_tables(other_ctx.engine)
    with ctx.sessions() as session:
        n = session.execute(
            select(Observation.n, Observation.first_seen, Observation.last_seen).where(
                Observation.account_id == "acct_5", Observation.kind == 1
            )
        ).one()
    assert n[0] == 12 and n[2] - n[1] == 11 * 3600  # every round counted once, first..last


def test_interrupt_keeps_whole_transactions_of_several_batches(
    ctx: Context, other_ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _time_ordered_lines(accounts=40, rounds=12)
    real = _interrupt_usage_write(monkeypatch, on_call=2)  # the end of the 2nd transaction
    ing = make_ingestor(ctx)
    ing.commit_lines = 300
    s = ing.ingest(io.BytesIO(data))
    assert s.interrupted and s.committed_through_line == 300
    assert s.accepted["request"] == 300
    with ctx.sessions() as session:
        assert repository.table_counts(session)["requests"] == 300
    monkeypatch.setattr(repository, "upsert_usage", real)
    assert ing.ingest(io.BytesIO(data)).accepted["request"] == 180
    ingest_bytes(other_ctx, data)
    skip = ("alembic_version", "prompt_samples")
    assert dump_tables(ctx.engine, skip) == dump_tables(other_ctx.engine, skip)


def test_parallel_workers_store_the_same_as_in_process(
    ctx: Context, other_ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    # with workers this process only writes, with the cyclic collector paused; in-process
    # (the web server's path) the collector stays on; either way it is on afterwards
    collecting: list[bool] = []
    write = Ingestor._write

    def spy(self: Ingestor, *args: Any, **kwargs: Any) -> dict[str, int]:
        collecting.append(gc.isenabled())
        return write(self, *args, **kwargs)

    monkeypatch.setattr(Ingestor, "_write", spy)
    data = _many_lines(200)
    s = ingest_bytes(ctx, data, workers=2)
    assert s.accepted["request"] == 400
    assert collecting and not any(collecting) and gc.isenabled()
    collecting.clear()
    ingest_bytes(other_ctx, data, workers=0)
    assert collecting and all(collecting)
    assert dump_tables(ctx.engine) == dump_tables(other_ctx.engine)


def test_cycles_made_while_the_collector_is_paused_go_after_each_transaction(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a reference cycle made while writing the first transaction is freed before the
    # second transaction writes, though the collector stays paused in between
    class Node:
        other: Any = None

    seen: list[weakref.ref[Node]] = []
    alive_later: list[bool] = []
    write = Ingestor._write

    def spy(self: Ingestor, *args: Any, **kwargs: Any) -> dict[str, int]:
        if not seen:
            a, b = Node(), Node()
            a.other, b.other = b, a
            seen.append(weakref.ref(a))
        else:
            alive_later.append(seen[0]() is not None)
        return write(self, *args, **kwargs)

    monkeypatch.setattr(Ingestor, "_write", spy)
    ing = make_ingestor(ctx, workers=2)
    ing.batch_lines, ing.commit_lines = 100, 100
    assert ing.ingest(io.BytesIO(_many_lines(150))).accepted["request"] == 300
    assert alive_later and not any(alive_later)


def test_the_workers_are_gone_when_an_ingest_returns(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """They are told to exit before the last batches are written; the ingest still waits
    for them (the pool's manager thread is slowed here, so a return without the join would
    find them alive)."""
    import multiprocessing
    from concurrent.futures import process

    join = process._ExecutorManagerThread.join_executor_internals

    def slow(self: Any) -> None:
        time.sleep(1.0)
        join(self)

    monkeypatch.setattr(process._ExecutorManagerThread, "join_executor_internals", slow)
    ing = make_ingestor(ctx, workers=2)
    ing.batch_lines = 100
    assert ing.ingest(io.BytesIO(_many_lines(150))).accepted["request"] == 300
    assert multiprocessing.active_children() == []


def test_an_ip_with_an_escaped_nul_is_not_taken_for_the_ip_before_it(ctx: Context) -> None:
    # NUL escapes become U+FFFD before decoding (PostgreSQL text has no NUL), so distinct IPs
    # never differ only after a NUL (older pandas' factorize compared strings up to one)
    good = request("a", ip="10.0.0.1", id="r1")
    bad = request("b", ip="10.0.0.1", id="r2")
    line = orjson.dumps(bad).replace(b'"10.0.0.1"', b'"10.0.0.1\\u0000x"')
    for first, second in ((orjson.dumps(good), line), (line, orjson.dumps(good))):
        s = ingest_bytes(ctx, first + b"\n" + second + b"\n")
        assert s.rejected == 1 and [e.field for e in s.errors] == ["ip"]
    with ctx.engine.connect() as conn:
        senders = conn.execute(text("SELECT DISTINCT account_id FROM observations")).scalars()
        assert sorted(senders) == ["a"]


def test_workers_run_at_a_lower_priority_than_the_writer() -> None:
    # the writing process is the bottleneck: the workers take what CPU it leaves
    with workers.start(1) as pool:
        theirs = pool.submit(os.nice, 0).result()
    assert theirs == min(os.nice(0) + WORKER_NICENESS, 19)


def test_workers_do_not_run_the_main_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # started from a file (the hydrascope console script), a spawned process would run it
    # again before its first task: the whole command line's imports, for nothing
    ran = tmp_path / "ran"
    script = tmp_path / "console_script.py"
    script.write_text(f"open({str(ran)!r}, 'w').close()\n")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", main)
    with workers.start(1) as pool:
        assert pool.submit(os.getpid).result() != os.getpid()
    assert sys.modules["__main__"] is main  # put back for the rest of the process
    assert not ran.exists()


def test_workers_read_a_plain_file_themselves_with_the_same_outcome(
    ctx: Context, other_ctx: Context, tmp_path: Path
) -> None:
    # bad lines among the good and no newline at the end: the line numbers must survive
    data = _many_lines(150) + b'{"type": "request"}\nnot json\n' + _many_lines(60).rstrip()
    path = tmp_path / "input.ndjson"
    path.write_bytes(data)
    with path.open("rb") as fh:
        assert plain_file_path(fh) == str(path)  # the byte-range path is the one taken
        got = make_ingestor(ctx, workers=2).ingest(fh)  # type: ignore[arg-type]
    want = ingest_bytes(other_ctx, data, workers=0)
    assert got.as_dict() == want.as_dict()
    assert [e.line for e in got.errors] == [451, 451, 451, 452]
    assert dump_tables(ctx.engine) == dump_tables(other_ctx.engine)


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
def test_workers_regroup_a_batch_whose_requests_were_partly_stored(
    ctx: Context, other_ctx: Context, tmp_path: Path, packed: bool
) -> None:
    # 150 lines stored before, then the whole file: the second batch (lines 101-200) is half
    # old, half new, and only the parent can tell; it prepares that batch again from the file
    # (plain) or from the bytes it kept (gzip)
    before = _many_lines(50)
    data = before + _many_lines(60).replace(b"Translate", b"Render")
    path = tmp_path / "input.ndjson"
    path.write_bytes(gzip.compress(data) if packed else data)
    ingest_bytes(ctx, before)
    with path.open("rb") as fh:
        got = make_ingestor(ctx, workers=2).ingest(fh)  # type: ignore[arg-type]
    assert got.duplicate_requests == 150 and got.rejected == 0  # 100 stored, 50 twice in the file
    # as if the file had come alone: re-sent requests change nothing
    ingest_bytes(other_ctx, data, workers=0)
    assert dump_tables(ctx.engine) == dump_tables(other_ctx.engine)


def test_only_uncompressed_regular_files_are_read_by_range(tmp_path: Path) -> None:
    plain = tmp_path / "a.ndjson"
    plain.write_bytes(b"{}\n")
    packed = tmp_path / "a.ndjson.gz"
    packed.write_bytes(gzip.compress(b"{}\n"))
    with packed.open("rb") as fh:
        assert plain_file_path(maybe_gunzip(fh)) is None
    with plain.open("rb") as fh:
        assert plain_file_path(maybe_gunzip(fh)) == str(plain)
    assert plain_file_path(io.BytesIO(b"{}\n")) is None


def test_prompt_samples_are_bounded_per_template(ctx: Context) -> None:
    recs = [
        request(f"a{i}", prompt=f"What is {i} times {i}?", ts=f"2026-01-05T14:{i % 60:02d}:00Z")
        for i in range(40)
    ]
    ingest_bytes(ctx, ndjson(*recs))
    with ctx.sessions() as session:
        rows = session.execute(
            text("SELECT template_key, count(*) FROM prompt_samples GROUP BY template_key")
        ).all()
    assert len(rows) == 1 and rows[0][1] == ctx.settings.prompt_samples_per_template


def test_accounts_and_payment_methods_are_stored_as_sqlalchemy_would_store_them(
    ctx: Context,
) -> None:
    """On SQLite they go through the driver's executemany with each column's own bind
    processor: the stored text of dates and JSON must be what SQLAlchemy's upsert writes."""
    from app.models import Account, PaymentMethod

    acct = account(
        1,
        email="Jo@Example.com",
        signup_ip="203.0.113.9",
        attributes={"plan": "pro", "seats": "3"},
        created_at="2026-01-04T09:12:44.123456+02:00",
    )
    pay = {
        "type": "payment_method",
        "account_id": "acct_1",
        "fingerprint": "fp_1",
        "exp_month": 7,
        "added_at": "2026-01-05T10:00:00Z",
    }
    ingest_bytes(ctx, ndjson(acct, account(2), pay))
    with ctx.engine.connect() as conn:
        stored = {
            t: conn.execute(text(f"SELECT * FROM {t} ORDER BY 1")).fetchall()
            for t in ("accounts", "payment_methods")
        }
    with ctx.sessions() as session:
        rows = {
            "accounts": [
                {c.key: getattr(a, c.key) for c in Account.__table__.c}
                for a in session.scalars(select(Account).order_by(Account.id))
            ],
            "payment_methods": [
                {c.key: getattr(p, c.key) for c in PaymentMethod.__table__.c}
                for p in session.scalars(select(PaymentMethod))
            ],
        }
        assert rows["accounts"][0]["attributes"] == {"plan": "pro", "seats": "3"}
        assert rows["accounts"][1]["attributes"] is None
        assert aware(rows["accounts"][0]["created_at"]) == datetime(
            2026, 1, 4, 7, 12, 44, 123456, tzinfo=UTC
        )
        session.execute(text("DELETE FROM payment_methods"))
        session.execute(text("DELETE FROM accounts"))
        # SQLAlchemy's own upsert of the same values (the path PostgreSQL takes)
        for model, name in ((Account, "accounts"), (PaymentMethod, "payment_methods")):
            stmt = repository._insert(session, model)
            session.execute(stmt, rows[name])
        session.commit()
    with ctx.engine.connect() as conn:
        again = {
            t: conn.execute(text(f"SELECT * FROM {t} ORDER BY 1")).fetchall()
            for t in ("accounts", "payment_methods")
        }
    assert again == stored

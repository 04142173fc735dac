"""Template signatures are computed at ingest, once per distinct skeleton, and detection groups
templates on the stored band keys; keys computed from the texts give the same groups."""

from __future__ import annotations

import collections
import contextlib
import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from app.core.context import Context
from app.detection import service
from app.detection.loader import load_input, read_templates
from app.ingest import repository
from app.ingest import service as ingest_service
from app.ingest.service import make_ingestor
from graph import DetectParams
from graph.build import build_graph
from graph.data import DetectionInput, Templates
from graph.signals.prompts import (
    BAND_BYTES,
    band_keys,
    pack_bands,
    signature_codes,
    skeleton,
    word_counts,
)
from graph.templates import group_templates
from graph.types import Kind
from tests.helpers import account, ndjson, request

REPORT = (
    "Please summarise the attached quarterly report for the board and list the three main "
    "risks you see in it, with one sentence on each risk and a short recommendation for {}"
)
OTHER = "Write a limerick about a cat who learns to play the piano at night"
REASONING = "Think step by step and show your reasoning: which of these plans costs less?"


def _ingest(ctx: Context, *records: dict) -> None:
    make_ingestor(ctx).ingest(io.BytesIO(ndjson(*records)))  # type: ignore[arg-type]


def _load(ctx: Context) -> DetectionInput:
    with ctx.engine.connect() as conn:
        return load_input(conn, ctx.settings.activity_window_seconds)[0]


def _stored(ctx: Context) -> Templates:
    """The templates as the loader reads them, band keys included (a detection input lets
    them go once its templates are grouped)."""
    with ctx.engine.connect() as conn:
        return read_templates(conn)


def _stored_rows(ctx: Context) -> int:
    with ctx.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM template_signatures")).scalar_one())


@pytest.mark.parametrize("json_each", [True, False], ids=["json_each", "executemany"])
def test_ingest_stores_the_band_keys_of_each_distinct_template(
    ctx: Context, monkeypatch: pytest.MonkeyPatch, json_each: bool
) -> None:
    # SQLite with JSON inserts a slice of signatures in one statement; PostgreSQL, and
    # SQLite before 3.38, row by row
    monkeypatch.setattr("app.ingest.repository.SQLITE_HAS_JSON", json_each)
    _ingest(
        ctx,
        request("a1", prompt=REPORT.format("the finance team")),
        request("a2", prompt=REPORT.format("the finance team")),  # same text: one template
        request("a3", prompt=OTHER),
        request("a3", prompt=REASONING),
    )
    t = _stored(ctx)
    assert len(t.key) == 3 and _stored_rows(ctx) == 3
    assert t.has_text is not None and t.has_text.all()
    assert t.skeleton == [None] * 3  # detection reads the integers, not the texts
    by_key = _texts_by_key(ctx)
    texts = [by_key[k] for k in t.key.tolist()]
    assert t.bands is not None and t.words is not None and t.signature is not None
    assert np.array_equal(t.bands, band_keys(texts))
    assert np.array_equal(t.words, word_counts(texts))
    assert np.array_equal(t.signature, signature_codes(texts))
    assert sorted(t.signature.tolist()) == [0, 0, 1]  # the reasoning prompt's signature


@pytest.mark.parametrize("json_each", [True, False], ids=["json_each", "executemany"])
def test_signature_rows_store_their_values_exactly_at_the_edges(
    ctx: Context, monkeypatch: pytest.MonkeyPatch, json_each: bool
) -> None:
    # SQLite reads the counts from fixed-width decimal text: signs, zeros and the widest values
    monkeypatch.setattr("app.ingest.repository.SQLITE_HAS_JSON", json_each)
    keys = np.array([-(2**63), 2**63 - 1, 0, 7], dtype=np.int64)
    words = np.array([0, 2**31 - 1, 1, 41], dtype=np.int64)  # INTEGER
    codes = np.array([0, 32767, -32768, 3], dtype=np.int64)
    bands = np.arange(len(keys) * BAND_BYTES // 4, dtype="<u4").reshape(len(keys), -1)
    rows = {"template_key": keys, "words": words, "signature": codes, "bands": bands}
    with ctx.sessions.begin() as session:
        repository.insert_template_signatures(session, rows)
    with ctx.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT template_key, words, signature, bands FROM template_signatures")
        ).all()
    want = {
        (k, w, c, b)
        for k, w, c, b in zip(
            keys.tolist(), words.tolist(), codes.tolist(), pack_bands(bands), strict=True
        )
    }
    assert {(r[0], r[1], r[2], bytes(r[3])) for r in stored} == want


def test_a_count_too_wide_for_its_text_is_refused_not_cut() -> None:
    assert repository._digits(np.array([-5, 0, 12]), 4).tobytes() == b"-005+000+012"
    with pytest.raises(ValueError, match="3 decimal digits"):
        repository._digits(np.array([1000]), 4)


def test_band_keys_survive_a_restart_and_group_a_later_near_duplicate(ctx: Context) -> None:
    first, later = REPORT.format("the finance team"), REPORT.format("the sales team")
    _ingest(ctx, request("a1", prompt=first), request("a1", prompt=OTHER))
    ctx.engine.dispose()  # a restart: a new process, a new engine on the same database
    again = Context(ctx.settings)
    try:
        _ingest(again, request("a2", prompt=later))
        inp = _load(again)
        by_key = _texts_by_key(again)
    finally:
        again.engine.dispose()
    groups = inp.template_groups  # grouped by the loader, from the stored band keys
    assert groups is not None
    keys = {v: k for k, v in by_key.items()}
    a, b, other = groups.of(np.array([keys[skeleton(t)] for t in (first, later, OTHER)]))
    assert a == b != other
    # the same grouping from the texts alone (how worlds and tests build inputs)
    texts = [by_key[k] for k in inp.templates.key.tolist()]
    from_texts = Templates(inp.templates.key, list(texts))
    assert np.array_equal(group_templates(from_texts).group, groups.group)


def test_templates_ingested_before_signatures_were_stored_get_the_same_keys(
    ctx: Context,
) -> None:
    _ingest(
        ctx, request("a1", prompt=REPORT.format("the finance team")), request("a2", prompt=OTHER)
    )
    stored = _stored(ctx)
    with ctx.engine.begin() as conn:  # a database from before the template_signatures table
        conn.execute(text("DELETE FROM template_signatures"))
    computed = _stored(ctx)
    assert computed.skeleton == [_texts_by_key(ctx)[k] for k in computed.key.tolist()]
    assert stored.bands is not None and computed.bands is not None
    assert np.array_equal(stored.key, computed.key)
    assert np.array_equal(stored.bands, computed.bands)


def _template_texts(ctx: Context) -> set[str]:
    with ctx.engine.connect() as conn:
        return set(conn.execute(text("SELECT value FROM template_texts")).scalars())


def _texts_by_key(ctx: Context) -> dict[int, str]:
    with ctx.engine.connect() as conn:
        rows = conn.execute(text("SELECT template_key, value FROM template_texts"))
        return {int(k): v for k, v in rows}


def _table(ctx: Context, name: str) -> list[tuple]:
    with ctx.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(text(f"SELECT * FROM {name}")))


def test_a_one_off_template_loses_its_text_but_still_links_a_later_near_duplicate(
    ctx: Context,
) -> None:
    """After a run, a template one account used keeps no skeleton text and no samples; its
    band keys stay, so when another account sends a near-duplicate later, the two templates
    group and the two accounts share the template value."""
    first, later = REPORT.format("the finance team"), REPORT.format("the sales team")
    records = [account(i) for i in (1, 2, 3)]
    records += [request("acct_1", id="q1", prompt=first)]
    records += [request(f"acct_{i}", id=f"s{i}", prompt=OTHER) for i in (2, 3)]  # shared
    _ingest(ctx, *records)
    kept = {t: _table(ctx, t) for t in ("activity", "template_signatures", "request_keys")}
    out = service.detect(ctx, DetectParams(seed=0))
    assert out["counts"]["template_texts_dropped"] == 1
    assert _template_texts(ctx) == {skeleton(OTHER)}  # the shared template keeps its text
    with ctx.engine.connect() as conn:
        sampled = set(conn.execute(text("SELECT text FROM prompt_samples")).scalars())
    assert first not in sampled and OTHER in sampled
    # nothing detection reads was lost with the text
    assert {t: _table(ctx, t) for t in kept} == kept

    _ingest(ctx, request("acct_2", id="q2", prompt=later))
    inp = _load(ctx)
    g = build_graph(inp)
    tpl = g.values.kind == Kind.TEMPLATE
    owners = inp.accounts.ids[g.values.account[tpl]].tolist()
    held = list(zip(owners, g.values.key[tpl].tolist(), strict=True))
    group = next(k for a, k in held if a == "acct_1")  # acct_1's one-off template now links
    assert {a for a, k in held if k == group} == {"acct_1", "acct_2"}
    # the group is named by the template whose text is kept (what a reviewer is shown)
    assert _texts_by_key(ctx)[group] == skeleton(later)
    # the next run counts the pair as evidence: neither template is dropped any more
    assert service.detect(ctx, DetectParams(seed=0))["counts"]["template_texts_dropped"] == 0
    assert skeleton(later) in _template_texts(ctx)


@pytest.mark.parametrize("json_each", [True, False], ids=["json_each", "in_list"])
def test_prompt_samples_are_bounded_per_account(
    ctx: Context, monkeypatch: pytest.MonkeyPatch, json_each: bool
) -> None:
    # the stored samples are counted per template and account with json_each (SQLite 3.38+)
    # or an IN list (PostgreSQL, older SQLite)
    monkeypatch.setattr("app.ingest.repository.SQLITE_HAS_JSON", json_each)
    cap = 4
    ctx.settings = ctx.settings.model_copy(
        update={"prompt_samples_per_account": cap, "prompt_samples_per_account_unshared": cap}
    )
    recs = [
        request("a1", prompt=f"{word} is the topic of my essay, please help", id=f"a{i}")
        for i, word in enumerate(["rivers", "lakes", "seas", "hills", "woods", "roads", "towns"])
    ]
    recs += [request("a2", prompt="rivers is the topic of my essay, please help", id="b")]
    _ingest(ctx, *recs[:3])  # two batches: the allowance holds across them
    _ingest(ctx, *recs[3:])
    rows = _table(ctx, "prompt_samples")
    per_account = collections.Counter(r[2] for r in rows)
    assert per_account == {"a1": cap, "a2": 1}
    # the kept ones are the account's first prompts, in order, and slots stay dense
    assert sorted(r[1] for r in rows if r[2] == "a2") == [1]


def test_sample_allowance_holds_across_batches_and_transactions(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one ingest, batches of two lines in transactions of four: the per-account counts kept
    # within a transaction hold across its batches, and are read again in the next one
    # (another writer adds a sample between the two transactions)
    cap = 5
    ctx.settings = ctx.settings.model_copy(
        update={
            "prompt_samples_per_account": cap,
            "prompt_samples_per_account_unshared": cap,
            "ingest_batch_lines": 2,
            "ingest_commit_lines": 4,
        }
    )
    real = ingest_service.transaction
    committed: list[int] = []

    @contextlib.contextmanager
    def transaction(factory: Any) -> Iterator[Any]:
        with real(factory) as session:
            yield session
        committed.append(1)
        if len(committed) == 1:  # another ingest stores one more of a1's prompts
            with ctx.engine.begin() as conn:
                conn.execute(
                    text(
                        "INSERT INTO prompt_samples (template_key, slot, account_id, ts, text) "
                        "VALUES (42, 0, 'a1', 0, 'elsewhere')"
                    )
                )

    monkeypatch.setattr(ingest_service, "transaction", transaction)
    words = ["rivers", "lakes", "seas", "hills", "woods", "roads", "towns", "ports", "docks"]
    essay = "{} is the topic of my essay, please help"
    _ingest(ctx, *(request("a1", prompt=essay.format(w), id=f"a{i}") for i, w in enumerate(words)))
    assert len(committed) == 3
    rows = _table(ctx, "prompt_samples")
    assert collections.Counter(r[2] for r in rows) == {"a1": cap}
    assert {r[4] for r in rows} == {"elsewhere"} | {essay.format(w) for w in words[:4]}


def test_template_slots_go_to_accounts_with_allowance_left(ctx: Context) -> None:
    # a1 has used its one sample; its prompts of a template with two free slots must not
    # take them from the accounts after it in the same batch
    ctx.settings = ctx.settings.model_copy(update={"prompt_samples_per_account": 1})
    shared = "Summarise the attached quarterly report in five bullet points for the board"
    _ingest(
        ctx,
        request("a1", prompt="Write a limerick about a cat who learns to sail", id="a1-0"),
        *(request(f"x{i}", prompt=shared, id=f"x{i}") for i in range(3)),
    )
    _ingest(
        ctx,
        request("a1", prompt=shared, id="a1-1"),
        request("a1", prompt=shared, id="a1-2"),
        request("b1", prompt=shared, id="b1"),
        request("c1", prompt=shared, id="c1"),
    )
    rows = _table(ctx, "prompt_samples")
    holders = collections.Counter(r[2] for r in rows)
    assert holders == {"a1": 1, "x0": 1, "x1": 1, "x2": 1, "b1": 1, "c1": 1}
    assert sorted(r[1] for r in rows if r[2] != "a1") == [0, 1, 2, 3, 4]  # slots stay dense


SHARED = "Summarise the attached quarterly report in five bullet points for the board"

ESSAYS = [
    f"{w} is the topic of my essay, please help"
    for w in ["rivers", "lakes", "seas", "hills", "woods", "roads", "towns", "ports", "docks"]
]


def test_a_skeleton_text_is_stored_with_a_kept_sample_only(ctx: Context) -> None:
    # a1's one-off prompts beyond its allowance (6) keep no text and no sample: only what
    # detection reads (signature and activity) and what can link them later
    _ingest(ctx, *(request("a1", prompt=p, id=f"a{i}") for i, p in enumerate(ESSAYS)))
    assert _template_texts(ctx) == {skeleton(p) for p in ESSAYS[:6]}
    assert len(_table(ctx, "template_signatures")) == len(ESSAYS)
    assert len(_table(ctx, "activity")) == len(ESSAYS)
    sampled = {r[0] for r in _table(ctx, "prompt_samples")}
    assert set(_texts_by_key(ctx)) == sampled


def test_a_template_another_account_sent_earlier_in_the_ingest_counts_as_shared(
    ctx: Context,
) -> None:
    # a1 and b1 have each used their allowance for one-off prompts (6) when they send the
    # same template, in batches far apart: b1's prompt is evidence, kept with its text
    ctx.settings = ctx.settings.model_copy(update={"ingest_batch_lines": 2})
    own = [f"{p} (asked by {who})" for who in ("a1", "b1") for p in ESSAYS[:6]]
    _ingest(
        ctx,
        *(request("a1", prompt=p, id=f"a{i}") for i, p in enumerate(own[:6])),
        request("a1", prompt=SHARED, id="a-shared"),
        *(request("b1", prompt=p, id=f"b{i}") for i, p in enumerate(own[6:])),
        request("b1", prompt=SHARED, id="b-shared"),
    )
    kept = collections.Counter((r[2], r[4]) for r in _table(ctx, "prompt_samples"))
    assert kept[("a1", SHARED)] == 0 and kept[("b1", SHARED)] == 1
    assert skeleton(SHARED) in _template_texts(ctx)


@pytest.mark.parametrize("workers", [0, 1])
def test_a_partly_resent_batch_keeps_its_new_prompts_and_skeletons(
    ctx: Context, workers: int
) -> None:
    # some requests of the batch were stored before: the new ones are grouped again, from
    # the batch's own texts (a worker's result leaves them out)
    _ingest(ctx, request("a1", prompt=ESSAYS[0], id="r0"))
    make_ingestor(ctx, workers=workers).ingest(
        io.BytesIO(
            ndjson(
                request("a1", prompt=ESSAYS[0], id="r0"),
                request("a2", prompt=ESSAYS[1], id="r1"),
                request("a3", prompt=SHARED, id="r2"),
            )
        )
    )
    samples = {(r[2], r[4]) for r in _table(ctx, "prompt_samples")}
    assert samples == {("a1", ESSAYS[0]), ("a2", ESSAYS[1]), ("a3", SHARED)}
    assert _template_texts(ctx) == {skeleton(p) for p in (ESSAYS[0], ESSAYS[1], SHARED)}


def test_refused_prompts_take_no_place_in_the_allowance(ctx: Context) -> None:
    # a1 and b1 send 20 one-off prompts each (6 kept), then one shared prompt: it is kept
    # for both, its refused one-off predecessors did not use up their 20
    words = [
        "rivers",
        "lakes",
        "seas",
        "hills",
        "woods",
        "roads",
        "towns",
        "ports",
        "docks",
        "farms",
        "mills",
        "barns",
        "fields",
        "trees",
        "birds",
        "fish",
        "stars",
        "moons",
        "clouds",
        "rain",
    ]
    name = {"a1": "alpha", "b1": "beta"}
    _ingest(
        ctx,
        *(
            request(who, prompt=f"{w} is the topic of my essay ({name[who]})", id=f"{who}{i}")
            for who in ("a1", "b1")
            for i, w in enumerate(words)
        ),
        request("a1", prompt=SHARED, id="a-shared"),
        request("b1", prompt=SHARED, id="b-shared"),
    )
    kept = collections.Counter((r[2], r[4] == SHARED) for r in _table(ctx, "prompt_samples"))
    assert kept == {("a1", False): 6, ("b1", False): 6, ("a1", True): 1, ("b1", True): 1}
    assert skeleton(SHARED) in _template_texts(ctx)


def test_a_template_is_shared_in_a_batch_by_everyone_who_sent_it(ctx: Context) -> None:
    # a1 sends SHARED five times (the template's five sample candidates), b1 once after: the
    # batch's senders, not only its candidates, decide that the template is shared
    _ingest(
        ctx,
        *(request("a1", prompt=p, id=f"a{i}") for i, p in enumerate(ESSAYS[:6])),
        *(request("a1", prompt=SHARED, id=f"as{i}") for i in range(5)),
        request("b1", prompt=SHARED, id="bs"),
    )
    kept = collections.Counter((r[2], r[4]) for r in _table(ctx, "prompt_samples"))
    assert kept[("a1", SHARED)] == 5
    assert skeleton(SHARED) in _template_texts(ctx)


def test_skeleton_texts_are_kept_when_no_prompt_samples_are(ctx: Context) -> None:
    # a deployment that keeps no raw prompts still names its templates
    ctx.settings = ctx.settings.model_copy(update={"prompt_samples_per_template": 0})
    _ingest(ctx, *(request("a1", prompt=p, id=f"a{i}") for i, p in enumerate(ESSAYS)))
    assert _table(ctx, "prompt_samples") == []
    assert _template_texts(ctx) == {skeleton(p) for p in ESSAYS}


def test_prompts_nobody_else_sends_have_a_smaller_allowance(ctx: Context) -> None:
    # defaults: 20 samples an account, of which 6 for templates no other account is known
    # to use; a template another account sends in the same batch, or one with a stored
    # sample, counts as shared
    own = ESSAYS
    later = "Translate the attached contract into German, keeping the legal terms"
    _ingest(
        ctx,
        *(request("a1", prompt=p, id=f"a{i}") for i, p in enumerate(own)),
        request("a1", prompt=SHARED, id="a-shared"),
        request("b1", prompt=SHARED, id="b-shared"),
        request("c1", prompt=later, id="c-later"),
    )
    _ingest(ctx, request("a1", prompt=later, id="a-later"))  # c1's template has a sample
    mine = [r[4] for r in _table(ctx, "prompt_samples") if r[2] == "a1"]
    assert sorted(mine) == sorted([*own[:6], SHARED, later])


def test_a_template_whose_first_samples_were_purged_takes_new_ones(ctx: Context) -> None:
    # a retention purge deletes a template's oldest samples: new ones go after its last slot
    # (numbered from the count, the next slot was still taken and the template stayed short)
    _ingest(ctx, *(request(f"x{i}", prompt=SHARED, id=f"x{i}") for i in range(3)))
    with ctx.engine.begin() as conn:
        conn.execute(text("DELETE FROM prompt_samples WHERE slot = 0"))
    _ingest(ctx, *(request(a, prompt=SHARED, id=a) for a in ("a1", "b1", "c1")))
    rows = _table(ctx, "prompt_samples")
    assert sorted((r[1], r[2]) for r in rows) == [
        (1, "x1"),
        (2, "x2"),
        (3, "a1"),
        (4, "b1"),
        (5, "c1"),
    ]


def test_an_account_whose_sample_was_not_stored_keeps_its_allowance(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a slot found taken when the sample is written (here: stale slot numbers, as another
    # writer would leave them) stores nothing, and must not count against the account
    real = repository._slots
    monkeypatch.setattr(
        repository, "_slots", lambda s, keys: {k: (n, 0) for k, (n, _) in real(s, keys).items()}
    )
    ctx.settings = ctx.settings.model_copy(
        update={"prompt_samples_per_account": 2, "ingest_batch_lines": 1}
    )
    _ingest(ctx, request("x0", prompt=SHARED, id="x0"))
    own = ["Write a limerick about a cat who learns to sail", "Plan a week of vegetarian dinners"]
    _ingest(
        ctx,
        request("a1", prompt=SHARED, id="a1-0"),  # given slot 0 again: taken, not stored
        *(request("a1", prompt=p, id=f"a1-{i}") for i, p in enumerate(own, 1)),
    )
    mine = {r[4] for r in _table(ctx, "prompt_samples") if r[2] == "a1"}
    assert mine == set(own)


PROSE = [
    "My landlord has not returned the deposit for my flat in Leeds, what are my options",
    "Draft a birthday message for my grandmother who is turning ninety this weekend",
    "Explain why my sourdough starter smells of acetone after three days on the counter",
    "Compare two commuting options for me, cycling along the canal or the number twelve bus",
]


def _mostly_one_offs(ctx: Context) -> None:
    """Four accounts with one prompt each that nobody else sent, two sharing one: four of
    the five templates are one-offs (on SQLite the run rewrites the two tables)."""
    records = [account(i) for i in range(1, 7)]
    records += [request(f"acct_{i}", id=f"p{i}", prompt=p) for i, p in enumerate(PROSE, 1)]
    records += [request(f"acct_{i}", id=f"s{i}", prompt=OTHER) for i in (5, 6)]
    _ingest(ctx, *records)


def _schema_diff(ctx: Context) -> list:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from app.models import Base

    with ctx.engine.connect() as conn:
        return compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )


def _root_pages(ctx: Context) -> dict[str, int]:
    """Where each table starts in a SQLite file (empty on PostgreSQL)."""
    if ctx.engine.dialect.name != "sqlite":
        return {}
    with ctx.engine.connect() as conn:
        rows = conn.execute(text("SELECT name, rootpage FROM sqlite_master WHERE type = 'table'"))
        return {name: int(page) for name, page in rows}


@pytest.mark.parametrize("json_each", [True, False], ids=["json_each", "executemany"])
def test_a_run_that_drops_most_templates_keeps_the_rest_and_the_schema(
    ctx: Context, monkeypatch: pytest.MonkeyPatch, json_each: bool
) -> None:
    # SQLite before 3.38 (no JSON built in) fills the doomed keys row by row
    monkeypatch.setattr("app.detection.prune.SQLITE_HAS_JSON", json_each)
    _mostly_one_offs(ctx)
    kept = {t: _table(ctx, t) for t in ("activity", "template_signatures", "observations")}
    out = service.detect(ctx, DetectParams(seed=0))
    assert out["counts"]["template_texts_dropped"] == 4
    assert out["counts"]["prompt_samples_dropped"] == 4
    assert _template_texts(ctx) == {skeleton(OTHER)}
    assert {r[4] for r in _table(ctx, "prompt_samples")} == {OTHER}
    assert {t: _table(ctx, t) for t in kept} == kept
    assert _schema_diff(ctx) == []  # tables, keys and indexes as the migrations made them
    # the next run finds nothing left to drop, and leaves the tables alone (no rewrite: on
    # SQLite a rewritten table would sit at a new root page)
    pages = _root_pages(ctx)
    again = service.detect(ctx, DetectParams(seed=0))["counts"]
    assert again["template_texts_dropped"] == again["prompt_samples_dropped"] == 0
    assert _root_pages(ctx) == pages
    # ingest goes on writing into the tables the run rewrote
    _ingest(ctx, request("acct_1", id="later", prompt=PROSE[1]))
    assert skeleton(PROSE[1]) in _template_texts(ctx)
    assert service.detect(ctx, DetectParams(seed=0))["run_id"]


def test_a_run_that_fails_after_dropping_leaves_texts_and_samples_as_they_were(
    ctx: Context, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    _mostly_one_offs(ctx)
    before = {t: _table(ctx, t) for t in ("template_texts", "prompt_samples")}

    def fail(_session: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("app.detection.repository.refresh_statistics", fail)
    try:
        service.detect(ctx, DetectParams(seed=0))
        raise AssertionError("the run should have failed")
    except RuntimeError as exc:
        assert "disk full" in str(exc)
    assert {t: _table(ctx, t) for t in before} == before
    assert _schema_diff(ctx) == []
    monkeypatch.undo()
    assert service.detect(ctx, DetectParams(seed=0))["counts"]["template_texts_dropped"] == 4


def test_signatures_are_read_whole_and_in_key_order_across_the_key_space(ctx: Context) -> None:
    """The loader reads the table in slices (of the key space on PostgreSQL, of the rowids
    on SQLite): keys at both ends of int64, either side of each key slice's bound and zero
    all come back once, in order, each with its own words, signature code and band keys."""
    from app.detection.loader import _read_signatures
    from graph.signals.prompts import BANDS, pack_bands

    step = 2**64 // 64
    edges = [-(2**63) + i * step for i in (1, 2, 63)]
    keys = sorted({-(2**63), -1, 0, 1, 2**63 - 1, *edges, *(e - 1 for e in edges)})
    rng = np.random.default_rng(0)
    bands = rng.integers(0, 2**32, size=(len(keys), 2 * BANDS), dtype=np.uint32)
    rows = [
        {"k": k, "w": 10 + i, "s": i % 5, "b": blob}
        for i, (k, blob) in enumerate(zip(keys, pack_bands(bands), strict=True))
    ]
    with ctx.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO template_signatures (template_key, words, signature, bands) "
                "VALUES (:k, :w, :s, :b)"
            ),
            rows[::-1],  # stored in reverse: the order read is the database's doing
        )
    with ctx.engine.connect() as conn:
        stored, read_bands = _read_signatures(conn)
    assert stored[:, 0].tolist() == keys
    assert stored[:, 1].tolist() == [10 + i for i in range(len(keys))]
    assert stored[:, 2].tolist() == [i % 5 for i in range(len(keys))]
    assert (read_bands == bands).all()


def test_signatures_appended_in_any_order_with_gaps_are_read_once_in_key_order(
    ctx: Context,
) -> None:
    """SQLite appends new signatures at the table's end (the key is a separate index) and the
    loader reads rowid slices: rows stored in random key order over several slices each, with
    holes where rows were deleted, come back once each, sorted by key, bands with their key."""
    from app.detection.loader import _read_signatures
    from graph.signals.prompts import BANDS, pack_bands

    rng = np.random.default_rng(1)
    keys = np.unique(rng.integers(-(2**63), 2**63 - 1, size=5_000, dtype=np.int64))
    rng.shuffle(keys)
    bands = rng.integers(0, 2**32, size=(len(keys), 2 * BANDS), dtype=np.uint32)
    with ctx.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO template_signatures (template_key, words, signature, bands) "
                "VALUES (:k, :w, 0, :b)"
            ),
            [
                {"k": k, "w": i, "b": b}
                for i, (k, b) in enumerate(zip(keys.tolist(), pack_bands(bands), strict=True))
            ],
        )
        gone = keys[::7].tolist()
        conn.execute(
            text("DELETE FROM template_signatures WHERE template_key = :k"),
            [{"k": k} for k in gone],
        )
    kept = np.ones(len(keys), dtype=bool)
    kept[::7] = False
    order = np.argsort(keys[kept])
    with ctx.engine.connect() as conn:
        stored, read_bands = _read_signatures(conn)
    assert stored[:, 0].tolist() == keys[kept][order].tolist()
    assert stored[:, 1].tolist() == np.flatnonzero(kept)[order].tolist()
    assert (read_bands == bands[kept][order]).all()


def test_signatures_of_a_utf16_sqlite_database_are_read_through_hex(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The bytes of the bands are joined as text: a database created in UTF-16 would
    transcode them, so there the loader asks for hex; the same keys and bands come back."""
    import sqlite3

    from app.core.db import make_engine, upgrade
    from app.detection.loader import _read_signatures
    from graph.signals.prompts import BANDS, pack_bands

    path = tmp_path / "utf16.db"
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA encoding = 'UTF-16le'")
        raw.execute("CREATE TABLE t (x)")  # the encoding is fixed by the first table
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    keys = [-5, 0, 9]
    bands = np.array([[0, 0xFFFFFFFF] * BANDS, [0xD800DC00] * 2 * BANDS, [7] * 2 * BANDS])
    with engine.begin() as conn:
        assert conn.exec_driver_sql("PRAGMA encoding").scalar() == "UTF-16le"
        conn.execute(
            text(
                "INSERT INTO template_signatures (template_key, words, signature, bands) "
                "VALUES (:k, 1, 0, :b)"
            ),
            [
                {"k": k, "b": b}
                for k, b in zip(keys, pack_bands(bands.astype(np.uint32)), strict=True)
            ],
        )
    with engine.connect() as conn:
        stored, read_bands = _read_signatures(conn)
    engine.dispose()
    assert stored[:, 0].tolist() == keys
    assert (read_bands == bands).all()


def test_signatures_added_while_they_are_read_are_read_too(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ingest beside the run can add rows between the loader's count and its slices:
    the arrays grow and every row comes back once, in key order."""
    from app.detection import loader
    from graph.signals.prompts import BANDS, pack_bands

    keys = [-(2**63) + 5, -7, 0, 3, 2**63 - 2, 2**63 - 1]
    bands = np.arange(len(keys) * 2 * BANDS, dtype=np.uint32).reshape(len(keys), 2 * BANDS)
    with ctx.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO template_signatures (template_key, words, signature, bands) "
                "VALUES (:k, 9, 0, :b)"
            ),
            [{"k": k, "b": b} for k, b in zip(keys, pack_bands(bands), strict=True)],
        )
    monkeypatch.setattr(loader, "_count", lambda conn, sql: 3)  # counted before 3 arrived
    with ctx.engine.connect() as conn:
        stored, read_bands = loader._read_signatures(conn)
    assert stored[:, 0].tolist() == keys
    assert (read_bands == bands).all()


def test_integer_keys_are_read_whole_without_a_count(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Integer-only reads (as of the keys of templates that still have a text) are gathered
    slice by slice without counting the table first: keys across the whole key space, more
    than one slice's worth in some, all come back once and in order, and rows the condition
    leaves out stay out."""
    from app.detection import loader

    step = 2**64 // 64
    keys = sorted(
        {
            -(2**63),
            -1,
            0,
            1,
            2**63 - 1,
            *(-(2**63) + i * step + j for i in (1, 2, 63) for j in (-1, 0, 1)),
        }
        | {-(2**63) + 5 * step + j for j in range(40)}
    )
    with ctx.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO observed_values (kind, value_key, value) VALUES (:k, :v, 'x')"),
            [{"k": int(Kind.IP), "v": k} for k in keys[::-1]]
            + [{"k": int(Kind.USER_AGENT), "v": k} for k in (3, 4)],
        )

    def no_count(conn: object, sql: str) -> int:
        raise AssertionError(f"counted: {sql}")

    monkeypatch.setattr(loader, "_count", no_count)
    with ctx.engine.connect() as conn:
        got = loader._read_slices(
            conn, "observed_values", "value_key", where=f"kind = {int(Kind.IP)}"
        )[0][:, 0]
    assert got.tolist() == keys


def test_stored_sample_counts_are_looked_up_per_row_as_a_dict_would() -> None:
    rng = np.random.default_rng(5)
    keys = rng.integers(-(2**63), 2**63 - 1, 400, dtype=np.int64)
    rows = rng.choice(np.r_[keys, rng.integers(-(2**63), 2**63 - 1, 400, dtype=np.int64)], 3000)
    stored = {int(k): (int(rng.integers(1, 6)), int(rng.integers(1, 40))) for k in keys[::3]}
    counts, nexts = repository._stored_per_row(stored, rows)
    assert counts.tolist() == [stored.get(k, (0, 0))[0] for k in rows.tolist()]
    assert nexts.tolist() == [stored.get(k, (0, 0))[1] for k in rows.tolist()]
    empty = repository._stored_per_row({}, rows)
    assert not empty[0].any() and not empty[1].any()

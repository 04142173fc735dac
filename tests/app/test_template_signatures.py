"""Template signatures are computed at ingest, once per distinct skeleton, and detection groups
templates on the stored band keys; keys computed from the texts give the same groups."""

from __future__ import annotations

import io

import numpy as np
from sqlalchemy import text

from app.core.context import Context
from app.detection.loader import load_input
from app.ingest.service import make_ingestor
from graph.build import BuildParams, template_grouping
from graph.data import DetectionInput, Templates
from graph.signals.prompts import band_keys, signature_codes, skeleton, word_counts
from tests.helpers import ndjson, request

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


def _stored_rows(ctx: Context) -> int:
    with ctx.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM template_signatures")).scalar_one())


def test_ingest_stores_the_band_keys_of_each_distinct_template(ctx: Context) -> None:
    _ingest(
        ctx,
        request("a1", prompt=REPORT.format("the finance team")),
        request("a2", prompt=REPORT.format("the finance team")),  # same text: one template
        request("a3", prompt=OTHER),
        request("a3", prompt=REASONING),
    )
    inp = _load(ctx)
    t = inp.templates
    assert len(t.key) == 3 and _stored_rows(ctx) == 3
    texts = [s or "" for s in t.skeleton]
    assert t.bands is not None and t.words is not None and t.signature is not None
    assert np.array_equal(t.bands, band_keys(texts))
    assert np.array_equal(t.words, word_counts(texts))
    assert np.array_equal(t.signature, signature_codes(texts))
    assert sorted(t.signature.tolist()) == [0, 0, 1]  # the reasoning prompt's signature


def test_band_keys_survive_a_restart_and_group_a_later_near_duplicate(ctx: Context) -> None:
    first, later = REPORT.format("the finance team"), REPORT.format("the sales team")
    _ingest(ctx, request("a1", prompt=first), request("a1", prompt=OTHER))
    ctx.engine.dispose()  # a restart: a new process, a new engine on the same database
    again = Context(ctx.settings)
    try:
        _ingest(again, request("a2", prompt=later))
        inp = _load(again)
    finally:
        again.engine.dispose()
    mapping, _ = template_grouping(inp, BuildParams().template_seed)
    keys = dict(zip([s for s in inp.templates.skeleton], inp.templates.key.tolist(), strict=True))
    a, b = keys[skeleton(first)], keys[skeleton(later)]
    assert mapping[a] == mapping[b] != mapping[keys[skeleton(OTHER)]]
    # the same grouping from the texts alone (how worlds and tests build inputs)
    from_texts = Templates(inp.templates.key, list(inp.templates.skeleton))
    plain = DetectionInput(inp.accounts, inp.incidence, inp.activity, from_texts)
    assert template_grouping(plain, BuildParams().template_seed) == template_grouping(
        inp, BuildParams().template_seed
    )


def test_templates_ingested_before_signatures_were_stored_get_the_same_keys(
    ctx: Context,
) -> None:
    _ingest(
        ctx, request("a1", prompt=REPORT.format("the finance team")), request("a2", prompt=OTHER)
    )
    stored = _load(ctx).templates
    with ctx.engine.begin() as conn:  # a database from before the template_signatures table
        conn.execute(text("DELETE FROM template_signatures"))
    computed = _load(ctx).templates
    assert stored.bands is not None and computed.bands is not None
    assert np.array_equal(stored.key, computed.key)
    assert np.array_equal(stored.bands, computed.bands)

"""Detection end to end: planted networks found, hard negatives left alone, runs recorded,
ids stable across re-runs and grown data, failures leave the previous results served."""

from __future__ import annotations

import collections
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import select, text, update

from app.cli import main
from app.clusters.repository import iter_run_clusters
from app.core.config import Settings
from app.core.context import Context
from app.core.db import upgrade
from app.detection import service
from app.detection.repository import latest_completed_run
from app.ingest.service import ingest_world
from app.models import Cluster, DetectionRun
from graph import DetectParams, evaluate
from graph.signals.prompts import skeleton
from tests.app.conftest import small_api_world
from tests.conftest import TEST_SECRET
from tests.helpers import ndjson
from worlds.files import write_world
from worlds.world import World, WorldParams, generate_world, scaled_networks

HARD_NEGATIVES = ("household", "campus", "carrier", "enterprise", "research_lab", "cron")


@pytest.fixture(scope="module")
def world() -> World:
    # seed 12 has every hard negative, a research lab with reasoning-eval prompts included
    return generate_world(WorldParams(n_benign=3000, seed=12, networks=scaled_networks(1, 0.5)))


def detect_world(world: World, path: Path) -> Context:
    """``world`` ingested into a new SQLite database at ``path`` and detected (seed 0)."""
    ctx = Context(Settings(database_url=f"sqlite:///{path}", secret_key=TEST_SECRET))
    upgrade(ctx.engine)
    ingest_world(ctx, world)
    service.detect(ctx, DetectParams(seed=0))
    return ctx


@pytest.fixture(scope="module")
def detected(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    ctx = detect_world(world, tmp_path_factory.mktemp("detect") / "world.db")
    yield ctx
    ctx.close()


def latest_clusters(ctx: Context) -> list[dict[str, Any]]:
    with ctx.sessions() as s:
        run = latest_completed_run(s)
        assert run is not None
        return list(iter_run_clusters(s, run.id))


@pytest.mark.slow
def test_every_planted_network_is_found_whole(detected: Context, world: World) -> None:
    found = [(c["members"], c["score"], c["flagged"]) for c in latest_clusters(detected)]
    m = evaluate(found, dict(world.truth()))
    for name, net in m["networks"].items():
        assert net["recall"] >= 0.95, name
        assert 1 <= net["flagged_clusters"] <= 2, name
    assert m["precision"] >= 0.95


def test_hard_negatives_are_not_flagged(detected: Context, world: World) -> None:
    roles = dict(zip((a["id"] for a in world.accounts), world.roles, strict=True))
    totals = collections.Counter(world.roles)
    flagged = collections.Counter(
        roles[a] for c in latest_clusters(detected) if c["flagged"] for a in c["members"]
    )
    for role in HARD_NEGATIVES:
        assert totals[role] > 0, f"world has no {role} accounts"
        assert flagged[role] <= 0.01 * totals[role], (role, flagged[role], totals[role])


def test_run_is_recorded_for_reproduction(detected: Context) -> None:
    with detected.sessions() as s:
        run = latest_completed_run(s)
        assert run is not None
        assert run.status == "completed" and run.engine == "leiden-cpm" and run.seed == 0
        assert run.params["resolution"] > 0 and run.params["build"]["public_cap"] > 0
        assert run.input_digest and len(run.input_digest) == 32
        assert run.code_version.startswith(("0.", "1."))
        assert {"load", "build_graph", "communities", "scoring", "persist"} <= set(run.timings)
        assert run.counts["clusters"] >= 6


def test_explanations_name_the_evidence(detected: Context, world: World) -> None:
    truth = dict(world.truth())
    clusters = latest_clusters(detected)
    farm = next(
        c
        for c in clusters
        if collections.Counter(truth[a] for a in c["members"]).most_common(1)[0][0] == "cardfarm"
    )
    assert "payment card" in farm["summary"] and "step-by-step reasoning" in farm["summary"]
    assert farm["signals"]["payment"] > 0.5
    from app.models import ClusterSnapshot

    with detected.sessions() as s:
        snap = s.get(ClusterSnapshot, (latest_completed_run(s).id, farm["id"]))  # type: ignore[union-attr]
        exp = snap.explanation  # type: ignore[union-attr]
    cards = exp["evidence"]["payment"]
    assert cards[0]["kind"] == "card" and cards[0]["value"].startswith("visa ending")
    assert cards[0]["members"] >= 2
    assert exp["templates"] and exp["templates"][0]["samples"]
    # the skeleton a reviewer reads: detection loads no texts, the run's save adds them
    top = exp["templates"][0]
    assert top["skeleton"] and top["signature"] == "reasoning"
    assert skeleton(top["samples"][0]) == top["skeleton"]
    assert exp["timeline"]["signups_per_day"]
    assert exp["score_breakdown"]["intercept"] < 0


def test_same_data_and_seed_give_the_same_clusters_and_ids(detected: Context) -> None:
    before = latest_clusters(detected)
    service.detect(detected, DetectParams(seed=0))
    after = latest_clusters(detected)
    assert [(c["id"], c["members"], c["score"]) for c in before] == [
        (c["id"], c["members"], c["score"]) for c in after
    ]


def test_clusters_jsonl_matches_the_contract(
    detected: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.config import get_settings

    monkeypatch.setenv("HYDRASCOPE_DATABASE_URL", str(detected.settings.database_url))
    monkeypatch.setenv("HYDRASCOPE_SECRET_KEY", TEST_SECRET)
    get_settings.cache_clear()
    r = CliRunner().invoke(main, ["clusters", "--format", "jsonl"])
    assert r.exit_code == 0, r.output
    rows = [orjson.loads(x) for x in r.stdout.splitlines()]
    assert rows and all(
        set(x) == {"id", "score", "flagged", "size", "status", "signals", "members"} for x in rows
    )
    scores = [x["score"] for x in rows]
    assert scores == sorted(scores, reverse=True)
    assert all(
        0 <= s <= 1 and x["size"] == len(x["members"]) for s, x in zip(scores, rows, strict=True)
    )
    assert all(x["flagged"] == (x["score"] >= detected.settings.review_threshold) for x in rows)
    r = CliRunner().invoke(main, ["stats", "--json"])
    stats = orjson.loads(r.stdout)
    assert stats["clusters"] == len(rows)
    assert stats["flagged_clusters"] == sum(x["flagged"] for x in rows)
    get_settings.cache_clear()


@pytest.fixture
def small_world() -> World:
    return small_api_world()


@pytest.mark.slow
def test_ids_survive_grown_data_and_regrowth_is_marked(ctx: Context, small_world: World) -> None:
    ingest_world(ctx, small_world)
    service.detect(ctx, DetectParams(seed=0))
    truth = dict(small_world.truth())
    first = latest_clusters(ctx)
    farm = next(c for c in first if c["flagged"] and truth[c["members"][0]] == "cardfarm")
    with ctx.sessions() as s, s.begin():
        s.execute(update(Cluster).where(Cluster.id == farm["id"]).values(status="confirmed"))
    # the hydra regrows a head: a new account on the farm's card, device and proxy, same prompts
    head = dict(next(a for a in small_world.accounts if a["id"] == farm["members"][0]))
    head["id"] = "acct_new_head"
    card = next(p for p in small_world.payments if p["account_id"] == farm["members"][0])
    reqs = [
        dict(r, id=f"new_{i}", account_id="acct_new_head")
        for i, r in enumerate(
            r for r in small_world.records() if r.get("account_id") == farm["members"][0]
        )
    ]
    import io

    from app.ingest.service import make_ingestor

    make_ingestor(ctx).ingest(
        io.BytesIO(ndjson(head, dict(card, account_id="acct_new_head"), *reqs))
    )  # type: ignore[arg-type]
    service.detect(ctx, DetectParams(seed=0))
    second = {c["id"]: c for c in latest_clusters(ctx)}
    assert farm["id"] in second
    assert "acct_new_head" in second[farm["id"]]["members"]
    with ctx.sessions() as s:
        row = s.get(Cluster, farm["id"])
        assert row is not None and row.regrown and row.status == "confirmed" and row.version >= 2


@pytest.mark.slow
def test_a_failed_run_is_recorded_and_the_previous_results_stay_served(
    ctx: Context, small_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_world(ctx, small_world)
    service.detect(ctx, DetectParams(seed=0))
    before = latest_clusters(ctx)

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "run_detection", boom)
    with pytest.raises(RuntimeError):
        service.detect(ctx, DetectParams(seed=0))
    with ctx.sessions() as s:
        runs = s.scalars(select(DetectionRun).order_by(DetectionRun.started_at)).all()
    assert runs[-1].status == "failed" and "disk full" in (runs[-1].error or "")
    assert latest_clusters(ctx) == before


def test_only_one_run_at_a_time(ctx: Context) -> None:
    run_id = service.start_run(ctx, DetectParams())
    with pytest.raises(service.RunInProgress) as err:
        service.start_run(ctx, DetectParams())
    assert err.value.run_id == run_id


@pytest.mark.slow
def test_generate_detect_evaluate_commands(cli_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "w"
    r = CliRunner().invoke(
        main, ["generate", "--out", str(out), "--benign", "600", "--scale", "0.3", "--seed", "3"]
    )
    assert r.exit_code == 0, r.output
    assert (out / "world.ndjson.gz").exists()
    assert (out / "truth.csv").read_text().startswith("account_id,label\n")
    assert CliRunner().invoke(main, ["ingest", str(out / "world.ndjson.gz")]).exit_code == 0
    r = CliRunner().invoke(main, ["detect", "--json"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["evaluate", "--truth", str(out / "truth.csv"), "--json"])
    assert r.exit_code == 0, r.output
    m = orjson.loads(r.stdout)
    assert m["min_network_recall"] >= 0.95 and m["precision"] >= 0.9
    bad = tmp_path / "bad.csv"
    bad.write_text("id,kind\n")
    r = CliRunner().invoke(main, ["evaluate", "--truth", str(bad)])
    assert r.exit_code != 0 and "account_id,label" in r.output


def test_world_files_roundtrip(tmp_path: Path, small_world: World) -> None:
    from worlds.files import read_truth

    data, truth = write_world(small_world, tmp_path)
    assert read_truth(truth) == dict(small_world.truth())
    assert data.stat().st_size > 0


def test_a_run_whose_process_died_does_not_block_the_next(ctx: Context) -> None:
    import socket

    dead = service.start_run(ctx, DetectParams())
    with ctx.sessions() as s, s.begin():
        s.execute(
            update(DetectionRun)
            .where(DetectionRun.id == dead)
            .values(counts={"runner": {"host": socket.gethostname(), "pid": 2**22 + 12345}})
        )
    fresh = service.start_run(ctx, DetectParams())
    with ctx.sessions() as s:
        old = s.get(DetectionRun, dead)
        assert old is not None and old.status == "failed"
        assert "ended without finishing" in (old.error or "")
    assert fresh != dead


@pytest.mark.slow
def test_demo_command_runs_the_whole_flow(
    cli_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.config import get_settings

    # as `make demo` runs it: the database lives in the demo directory, which does not exist yet
    monkeypatch.setenv(
        "HYDRASCOPE_DATABASE_URL", f"sqlite:///{tmp_path / 'demo' / 'hydrascope.db'}"
    )
    get_settings.cache_clear()
    r = CliRunner().invoke(main, ["demo", "--dir", str(tmp_path / "demo"), "--benign", "800"])
    assert r.exit_code == 0, r.output
    assert "FLAG" in r.stdout and " share " in r.stdout
    assert "score   size cluster" in r.stdout  # the table's columns are named
    assert (tmp_path / "demo" / "truth.csv").exists()
    steps = ["generating a synthetic platform", "ingesting...", "detecting..."]
    assert all(step in r.stderr for step in steps)  # each step announced before it runs


def test_a_run_leaves_planner_statistics_for_its_tables(
    api: dict[str, Any], ctx: Context, backend: str
) -> None:
    """PostgreSQL plans an account's memberships from statistics a run must not leave empty
    (without them: a parallel plan, 25x slower). SQLite has nothing to refresh."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL statistics")
    with ctx.engine.connect() as conn:
        analysed = set(
            conn.scalars(
                text(
                    "SELECT DISTINCT tablename FROM pg_stats WHERE tablename IN "
                    "('clusters', 'cluster_members', 'cluster_edges', 'cluster_snapshots')"
                )
            )
        )
    assert analysed == {"clusters", "cluster_members", "cluster_edges", "cluster_snapshots"}

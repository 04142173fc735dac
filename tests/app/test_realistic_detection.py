"""Detection on a realistic world, end to end (ingest, detect, the clusters served): every
adaptive network style is found whole, and no innocent look-alike class is flagged.

The world is ``realistic_params`` at a small size: most benign prompts are one-off prose,
look-alikes (research labs with nightly evals, workshop cohorts, agent-framework users, ...)
outnumber the networks, and the networks adapt (cards in pairs, fresh exits per call,
model-rewritten prompts, accounts burned after days, customers' traffic mixed in).
"""

from __future__ import annotations

import collections
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from app.models import ClusterSnapshot, PromptSample
from graph import evaluate
from graph.signals.prompts import skeleton
from tests.app.test_detection import detect_world, latest_clusters
from worlds.world import REALISTIC_NETWORKS, World, generate_world, realistic_params

LOOKALIKES = (
    "household",
    "campus",
    "carrier",
    "enterprise",
    "research",
    "workshop",
    "agent_framework",
    "cron",
)
# the world is small (networks at half size), so a few accounts that never acted with the
# rest cost more recall than on the benchmark's worlds (docs/performance.md)
MIN_RECALL = {"burnchurn": 0.8}


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world(realistic_params(seed=31, n_benign=2500, scale=0.5))


@pytest.fixture(scope="module")
def quality(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    ctx = detect_world(world, tmp_path_factory.mktemp("realistic") / "world.db")
    clusters = latest_clusters(ctx)
    with ctx.sessions() as session:
        samples = set(session.scalars(select(PromptSample.text)))
        explained = list(
            session.scalars(select(ClusterSnapshot.explanation).where(ClusterSnapshot.flagged))
        )
    ctx.close()
    truth = dict(world.truth())
    role = dict(zip((a["id"] for a in world.accounts), world.roles, strict=True))
    flagged = collections.Counter(role[m] for c in clusters if c["flagged"] for m in c["members"])
    metrics = evaluate(
        [(c["members"], c["score"], c["flagged"]) for c in clusters],
        truth,
    )
    yield {
        "samples": samples,
        "flagged_explanations": explained,
        "metrics": metrics,
        "flagged_roles": flagged,
        "roles": collections.Counter(role.values()),
    }


@pytest.mark.slow
@pytest.mark.parametrize("style", [s.style for s in REALISTIC_NETWORKS])
def test_each_network_style_is_found_whole(quality: dict, style: str) -> None:
    net = quality["metrics"]["networks"][style]
    assert net["recall"] >= MIN_RECALL.get(style, 0.9), net
    assert 1 <= net["flagged_clusters"] <= 2, net


@pytest.mark.slow
@pytest.mark.parametrize("lookalike", LOOKALIKES)
def test_no_lookalike_is_flagged(quality: dict, lookalike: str) -> None:
    assert quality["roles"][lookalike] > 0  # the world has the class
    assert quality["flagged_roles"][lookalike] == 0


@pytest.mark.slow
def test_precision_and_false_positive_rate(quality: dict) -> None:
    m = quality["metrics"]
    assert m["precision"] >= 0.97 and m["benign_fpr"] <= 0.001, m


@pytest.mark.slow
def test_one_off_prompts_are_not_kept_but_evidence_samples_are(quality: dict, world: World) -> None:
    """A one-off prompt (its template used by one account) links nobody: its text, personal
    data, is not kept; shared templates keep their samples."""
    labels = dict(world.truth())
    benign = [
        (r["account_id"], r["prompt"])
        for r in world.records()
        if r["type"] == "request" and labels[r["account_id"]] == "benign"
    ]
    users: dict[str, set[str]] = collections.defaultdict(set)
    for account, prompt in benign:
        users[skeleton(prompt)].add(account)
    once = [p for _, p in benign if len(users[skeleton(p)]) == 1]
    kept = sum(p in quality["samples"] for p in once)
    assert len(once) > 1000 and kept / len(once) <= 0.01, (kept, len(once))
    flagged = quality["flagged_explanations"]
    with_samples = [e for e in flagged if any(t.get("samples") for t in e["templates"])]
    assert len(with_samples) >= len(flagged) - 1  # a reviewer reads what the network sent

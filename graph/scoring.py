"""Cluster features and the calibrated suspicion score.

A cluster is suspicious when independent evidence families tie it together, when the shared
mass is unlikely by chance (rare values, co-activity far above what busy strangers share),
and when it behaves like a distillation operation (templated prompts that extract reasoning,
tool traces or grades, sign-up bursts, new accounts, machine-made emails). Declared
organisations with a consistent company domain and spread-out sign-ups, and family-sized
groups with ordinary use, are mitigating context, not a free pass.

The score is a logistic function of these features; ``SCORE_WEIGHTS`` are fitted on
generated worlds with a different seed than the evaluation world
(``benchmarks/calibrate.py``), so a score reads as an estimated probability.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from graph.build import AccountGraph, scheduled
from graph.data import DetectionInput
from graph.pairs import N_FAMILIES
from graph.signals.identity import DISPOSABLE_DOMAINS, FREE_PROVIDERS
from graph.signals.prompts import SIGNATURES
from graph.types import Family

FAMILY_PRESENT = 0.2  # an edge's family contribution that counts as "this family ties them"
COVERAGE_STRONG = 0.5  # a family ties the cluster when it reaches half of the members
MACHINE_SHAPES = ("name+digits", "random", "digits")
BURST_MIN_SIZE = 5
DAY = 86_400
YOUNG_DAYS = 7  # an account whose first request came within a week of sign-up is "young"
# a family-sized group: a few accounts with ordinary use (a household, a couple)
FAMILY_MAX_SIZE = 6
FAMILY_MAX_DISTILL = 0.2  # share of requests that look like distillation
FAMILY_MAX_LOG_VOLUME = 2  # at most 4x the platform's median requests per account
LOG_VOLUME_RANGE = (-2, 6)  # volume against the median, clipped to 1/4 .. 64x
ORG_DOMAIN_SHARE = 0.8  # an organisation is consistent when 80% of its accounts share a domain

FEATURES = (
    "families",  # number of families that reach >= half of the members
    "cov_payment",
    "cov_network",
    "cov_timing",
    "cov_prompts",
    "cov_identity",
    "log_size",  # log2(size), counted only when at least two families tie the cluster
    "density",
    "mean_weight",
    "distill_share",
    "template_concentration",
    "burst",
    "young_share",
    "machine_email",
    "disposable_email",
    "log_volume",
    "org_consistency",
    "family_sized",
    "single_family",
    "coordinated_days",  # log2(1 + days on which members used one template in one window)
    "event_shaped",  # a sign-up burst whose coordinated use all fell on one day (a workshop)
)

#: What each feature measures, in the words an analyst reads in a score breakdown.
FEATURE_LABELS: dict[str, str] = {
    "intercept": "baseline (a group of accounts with nothing else known)",
    "families": "number of independent evidence families tying half the members",
    "cov_payment": "share of members tied by payment evidence",
    "cov_network": "share of members tied by network evidence",
    "cov_timing": "share of members tied by timing (co-activity, sign-up bursts)",
    "cov_prompts": "share of members tied by shared prompt templates",
    "cov_identity": "share of members tied by identity (devices, emails, phones, keys)",
    "log_size": "cluster size (counted only when two families tie it)",
    "density": "share of member pairs directly linked",
    "mean_weight": "mean strength of the links between members",
    "distill_share": "share of requests asking for reasoning, tool traces or grades",
    "template_concentration": "share of requests on the single most used template",
    "burst": "share of members created within 24 hours",
    "young_share": "share of members whose first request came within a week of sign-up",
    "machine_email": "machine-made email addresses, above the platform's rate",
    "disposable_email": "share of members on disposable email domains",
    "log_volume": "requests per member and day of activity against the platform's median",
    "org_consistency": "members of a declared organisation on its own company email domain",
    "family_sized": "a household-sized group with ordinary use",
    "single_family": "only one evidence family ties the members",
    "coordinated_days": "days on which members used one template in the same 10 minutes",
    "event_shaped": "a one-day event: sign-up burst, coordinated on that day only",
}

WEIGHTS_FILE = Path(__file__).with_name("score_weights.json")
# Signs the fit must respect: evidence and behaviour can only raise suspicion, mitigating
# context can only lower it.
MITIGATING = ("org_consistency", "family_sized", "single_family", "event_shaped")


def load_weights(path: Path = WEIGHTS_FILE) -> dict[str, float]:
    """The fitted weights (``benchmarks/calibrate.py`` writes them, with their provenance)."""
    data = json.loads(path.read_text())
    return {k: float(v) for k, v in data["weights"].items()}


@dataclass
class ClusterTable:
    """Per-cluster features (row c describes cluster label ``labels_kept[c]``)."""

    labels: np.ndarray  # cluster label per kept cluster
    members: list[np.ndarray]
    features: pd.DataFrame
    distill_kinds: pd.DataFrame  # share of requests per signature kind
    top_template: np.ndarray  # template group key of the most used template (0 if none)


def _burst(created: np.ndarray, cluster: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Largest share of a cluster's members created within any 24 hours.

    Clusters smaller than ``BURST_MIN_SIZE`` get 0: two friends joining on the same day is
    no burst.
    """
    order = np.lexsort((created, cluster))
    c, t = cluster[order], created[order]
    key = c.astype(np.float64) * 1e11 + t
    ends = np.searchsorted(key, key + DAY, side="right")
    within = ends - np.arange(len(key))
    best = np.zeros(len(sizes))
    np.maximum.at(best, c, within)
    return np.where(sizes >= BURST_MIN_SIZE, best / np.maximum(sizes, 1), 0.0)


def cluster_table(
    inp: DetectionInput, g: AccountGraph, labels: np.ndarray, *, min_size: int = 2
) -> ClusterTable:
    """The features of every community of at least ``min_size`` members (see ``FEATURES``):
    how the evidence covers it, how it behaves, and the context that mitigates."""
    n = len(inp.accounts)
    sizes_all = np.bincount(labels, minlength=int(labels.max()) + 1 if n else 0)
    kept = np.flatnonzero(sizes_all >= min_size)
    remap = np.full(len(sizes_all), -1)
    remap[kept] = np.arange(len(kept))
    cl = remap[labels]  # -1 for accounts outside kept clusters
    sizes = sizes_all[kept].astype(np.float64)
    cov, density, mean_weight = _evidence(g, cl, sizes)
    distill_kinds, top_template, concentration = _templates(inp, g, cl, len(kept))
    people = _accounts(inp, cl, sizes)
    days, busiest = _coordination(inp, g, cl, len(kept))
    distill = distill_kinds.sum(axis=1).to_numpy()
    family_sized = (
        (sizes <= FAMILY_MAX_SIZE)
        & (distill < FAMILY_MAX_DISTILL)
        & (people["log_volume"] < FAMILY_MAX_LOG_VOLUME)
    ).astype(float)
    families = (cov >= COVERAGE_STRONG).sum(axis=1)
    feats = pd.DataFrame(
        {
            "families": families,
            **{f"cov_{Family(f).label}": cov[:, f] for f in range(N_FAMILIES)},
            "log_size": np.where(families >= 2, np.log2(sizes), 0.0),
            "density": density,
            "mean_weight": mean_weight,
            "distill_share": distill,
            "template_concentration": concentration,
            "burst": people["burst"],
            "young_share": people["young_share"],
            "machine_email": people["machine_email"],
            "disposable_email": people["disposable_email"],
            "log_volume": np.clip(people["log_volume"], *LOG_VOLUME_RANGE),
            "org_consistency": people["org_consistency"],
            "family_sized": family_sized,
            "single_family": (families <= 1).astype(float),
            "coordinated_days": np.log2(1 + days),
            "event_shaped": people["burst"] * busiest,
        }
    )
    return ClusterTable(
        kept, _members(cl, len(kept)), feats[list(FEATURES)], distill_kinds, top_template
    )


def _evidence(
    g: AccountGraph, cl: np.ndarray, sizes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cluster: the share of members each family touches (an intra-cluster edge where
    the family counts, ``FAMILY_PRESENT``), the edge density and the mean edge weight."""
    k, n = len(sizes), len(cl)
    in_cluster = cl >= 0
    intra = (cl[g.src] == cl[g.dst]) & (cl[g.src] >= 0)
    es, ed, ew, ef = g.src[intra], g.dst[intra], g.weight[intra], g.family[intra]
    ec = cl[es]
    cov = np.zeros((k, N_FAMILIES))
    for f in range(N_FAMILIES):
        touched = np.zeros(n, dtype=bool)
        m = ef[:, f] >= FAMILY_PRESENT
        touched[es[m]] = True
        touched[ed[m]] = True
        cov[:, f] = np.bincount(cl[touched & in_cluster], minlength=k) / sizes
    n_edges = np.bincount(ec, minlength=k)
    density = n_edges / np.maximum(sizes * (sizes - 1) / 2, 1)
    mean_weight = np.bincount(ec, weights=ew, minlength=k) / np.maximum(n_edges, 1)
    return cov, density, mean_weight


def _templates(
    inp: DetectionInput, g: AccountGraph, cl: np.ndarray, k: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Per cluster, from the activity table: the share of requests of each distillation
    signature, the most used template group and the share of requests it takes."""
    act = inp.activity
    act_cl = cl[act.account]
    m = act_cl >= 0
    tgroup = g.templates.of(act.template[m])
    frame = pd.DataFrame({"c": act_cl[m], "t": tgroup, "n": act.n[m]})
    frame = frame[frame["t"] != 0]
    code = g.templates.signature_code(frame["t"].to_numpy())
    total = np.bincount(frame["c"], weights=frame["n"], minlength=k)
    kinds = {}
    for i, name in enumerate(SIGNATURES):
        sel = code == i + 1
        kinds[name] = np.bincount(
            frame["c"][sel], weights=frame["n"][sel], minlength=k
        ) / np.maximum(total, 1)
    per_t = frame.groupby(["c", "t"], sort=False)["n"].sum().reset_index()
    idx = per_t.groupby("c")["n"].idxmax()
    top_template = np.zeros(k, dtype=np.int64)
    top_share = np.zeros(k)
    top_template[per_t.loc[idx, "c"].to_numpy()] = per_t.loc[idx, "t"].to_numpy()
    top_share[per_t.loc[idx, "c"].to_numpy()] = per_t.loc[idx, "n"].to_numpy()
    return pd.DataFrame(kinds), top_template, top_share / np.maximum(total, 1)


def _coordination(
    inp: DetectionInput, g: AccountGraph, cl: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per cluster: on how many days two or more members used one template group in one
    activity window (scheduled use left out), and the share of those coordinated cells that
    fell on the busiest day.

    An operation works its accounts in step day after day; a workshop does so on the event
    day only, and then its students go their own ways.
    """
    act = inp.activity
    act_cl = cl[act.account]
    m = (act_cl >= 0) & (act.template != 0)
    days, busiest = np.zeros(k), np.zeros(k)
    if not m.any():
        return days, busiest
    # scheduled jobs meet by the clock (see graph.build.scheduled), not in step
    m[m] = ~scheduled(act.account[m], act.template[m], act.window[m], act.window_seconds)
    frame = pd.DataFrame(
        {
            "c": act_cl[m],
            "w": act.window[m],
            "t": g.templates.of(act.template[m]),
            "a": act.account[m],
        }
    ).drop_duplicates()
    cells = frame.groupby(["c", "w", "t"], sort=False).size()
    coord = cells[cells >= 2].reset_index()
    if coord.empty:
        return days, busiest
    coord["day"] = coord["w"].to_numpy() * act.window_seconds // DAY
    per_day = coord.groupby(["c", "day"]).size()
    n_days = per_day.groupby(level=0).size()
    days[n_days.index.to_numpy()] = n_days.to_numpy()
    top = per_day.groupby(level=0).max() / per_day.groupby(level=0).sum()
    busiest[top.index.to_numpy()] = top.to_numpy()
    return days, busiest


def _accounts(inp: DetectionInput, cl: np.ndarray, sizes: np.ndarray) -> dict[str, np.ndarray]:
    """Per cluster, from the members' accounts: sign-up burst, new accounts, machine-made and
    disposable emails, request volume against the platform's median, and org consistency."""
    acc, k = inp.accounts, len(sizes)
    n = len(acc)
    in_cluster = cl >= 0
    created = acc.created
    burst = np.zeros(k)
    if in_cluster.any():
        burst = _burst(created[in_cluster], cl[in_cluster], sizes)
    young = (acc.first_seen > 0) & (acc.first_seen - created < YOUNG_DAYS * DAY)
    young_share = np.bincount(cl[in_cluster], weights=young[in_cluster], minlength=k) / sizes
    shapes = pd.Series(acc.email_shape).isin(MACHINE_SHAPES).to_numpy()
    base_machine = shapes.mean() if n else 0.0
    machine = np.bincount(cl[in_cluster], weights=shapes[in_cluster], minlength=k) / sizes
    domains = pd.Series(acc.email_domain)
    disposable = domains.isin(DISPOSABLE_DOMAINS).to_numpy()
    disp = np.bincount(cl[in_cluster], weights=disposable[in_cluster], minlength=k) / sizes
    req = acc.requests.astype(np.float64) / _active_span_days(inp)
    pop_median = float(np.median(req[req > 0])) if (req > 0).any() else 1.0
    vol = _group_median(req[in_cluster], cl[in_cluster], k)
    return {
        "burst": burst,
        "young_share": young_share,
        "machine_email": np.clip(machine - base_machine, 0, 1),
        "disposable_email": disp,
        "log_volume": np.log2(np.maximum(vol, 1e-3) / max(pop_median, 1e-3)),
        "org_consistency": _org_consistency(acc.org, domains, cl, k, sizes) * (1 - burst),
    }


def _active_span_days(inp: DetectionInput) -> np.ndarray:
    """Per account, the calendar days from its first to its last request, both counted.

    Volume is a pace over that span: an account burned after three days of heavy use is as
    busy as one that keeps that pace for a month, while a workshop student's busy event day
    followed by weeks of ordinary use reads as ordinary.
    """
    act = inp.activity
    n = len(inp.accounts)
    first = np.full(n, np.iinfo(np.int64).max)
    last = np.full(n, np.iinfo(np.int64).min)
    day = act.window.astype(np.int64) * act.window_seconds // DAY
    np.minimum.at(first, act.account, day)
    np.maximum.at(last, act.account, day)
    return np.where(last >= first, last - first + 1, 1).astype(np.float64)


def breakdown(features: pd.DataFrame, weights: dict[str, float] | None = None) -> pd.DataFrame:
    """Each feature's contribution to the score's log-odds (plus the intercept)."""
    w = weights or load_weights()
    out = pd.DataFrame({"intercept": np.full(len(features), w.get("intercept", 0.0))})
    for name in FEATURES:
        out[name] = w.get(name, 0.0) * features[name].to_numpy(dtype=np.float64)
    return out


def logistic(contributions: pd.DataFrame) -> np.ndarray:
    """The score in [0, 1] of each row of a :func:`breakdown` (its sum is the log-odds)."""
    z = contributions.sum(axis=1).to_numpy()
    return 1.0 / (1.0 + np.exp(-z))


def score(features: pd.DataFrame, weights: dict[str, float] | None = None) -> np.ndarray:
    """Logistic score in [0, 1] from cluster features."""
    return logistic(breakdown(features, weights))


def _members(cl: np.ndarray, k: int) -> list[np.ndarray]:
    idx = np.flatnonzero(cl >= 0)
    order = idx[np.argsort(cl[idx], kind="stable")]
    bounds = np.searchsorted(cl[order], np.arange(k + 1))
    return [order[bounds[i] : bounds[i + 1]] for i in range(k)]


def _group_median(values: np.ndarray, group: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros(k)
    if len(values):
        med = pd.Series(values).groupby(group).median()
        out[med.index.to_numpy()] = med.to_numpy()
    return out


def _org_consistency(
    org: np.ndarray, domains: pd.Series, cl: np.ndarray, k: int, sizes: np.ndarray
) -> np.ndarray:
    """Share of members who belong to a consistent declared organisation: one whose accounts
    (platform-wide) mostly use one company email domain, with the member on that domain.

    Counted per organisation, not for the cluster's modal one, so two real labs that run the
    same public evaluation harness and land in one cluster are both still consistent. A fake
    organisation declared by accounts on free or disposable mail is not.
    """
    out = np.zeros(k)
    declared = pd.Series(org).notna().to_numpy()
    if not declared.any():
        return out
    dom = domains.to_numpy(dtype=object)
    company = domains.notna().to_numpy() & ~domains.isin(FREE_PROVIDERS | DISPOSABLE_DOMAINS)
    frame = pd.DataFrame({"org": org[declared], "dom": dom[declared], "ok": company[declared]})
    totals = frame.groupby("org").size()
    per_domain = frame[frame["ok"]].groupby(["org", "dom"]).size().sort_values()
    main = per_domain.reset_index().drop_duplicates("org", keep="last").set_index("org")
    consistent = main[0] >= ORG_DOMAIN_SHARE * totals.reindex(main.index)
    home = main.loc[consistent, "dom"]  # each consistent organisation's own domain
    member_ok = np.zeros(len(org), dtype=bool)
    member_ok[declared] = frame["org"].map(home).to_numpy(dtype=object) == frame["dom"].to_numpy()
    m = cl >= 0
    return np.bincount(cl[m], weights=member_ok[m], minlength=k) / np.maximum(sizes, 1)

"""Cluster -> ordered, serialisable evidence a reviewer reads: summary first, then details.

Values are referred to by ``(kind, key)``; the caller supplies ``display`` to turn the keys it
wants shown into text (the service looks them up in its tables), so this module stays pure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypedDict

import numpy as np
import pandas as pd

from graph.build import SIGNUP_BURST, AccountGraph, kind_name
from graph.data import DetectionInput
from graph.pairs import N_FAMILIES
from graph.scoring import FEATURE_LABELS, FEATURES, ClusterTable
from graph.types import KIND_FAMILY, Family

Display = Callable[[Iterable[tuple[int, int]]], Mapping[tuple[int, int], str]]
TOP_VALUES = 5
TOP_TEMPLATES = 3
TOP_DRIVERS = 4


class SharedValue(TypedDict):
    """One value that several members share."""

    kind: str
    value: str | None  # shown text, when the caller's ``display`` gives one
    value_key: str
    members: int  # members of this cluster holding it
    accounts_sharing: int  # accounts holding it platform-wide
    weight: float


class Driver(TypedDict):
    """One feature's push on the score, in plain words."""

    feature: str
    label: str
    contribution: float  # log-odds


class Template(TypedDict, total=False):
    template_key: str
    skeleton: str | None
    requests: int
    signature: str | None
    samples: list[str]  # added by the service, for roles that may read prompts


class Explanation(TypedDict):
    """What a reviewer reads about one cluster (stored and served as JSON)."""

    summary: str
    signals: dict[str, float]  # family -> share of members it ties
    evidence: dict[str, list[SharedValue]]  # family -> its strongest values
    evidence_more: dict[str, int]  # family -> values shared inside but not listed
    shared_value_counts: dict[str, int]  # kind -> distinct values shared inside
    members_sharing: dict[str, int]  # kind -> members holding a value shared inside
    behaviour: dict[str, Any]
    templates: list[Template]
    timeline: dict[str, dict[str, int]]
    score: float
    score_breakdown: dict[str, float]
    drivers: list[Driver]  # the strongest pushes up, then down
    features: dict[str, float]


_NOUNS = {
    "card": ("payment card", "payment cards"),
    "bin_postcode": ("card issuer + postcode", "card issuer + postcode pairs"),
    "billing_name": ("billing name", "billing names"),
    "ip": ("IP address", "IP addresses"),
    "ip_range": ("IP range", "IP ranges"),
    "device": ("device", "devices"),
    "email": ("email address", "email addresses"),
    "phone": ("phone number", "phone numbers"),
    "name": ("name", "names"),
    "user_agent": ("user agent", "user agents"),
    "api_key": ("API key", "API keys"),
    "attribute": ("attribute value", "attribute values"),
    "template": ("prompt template", "prompt templates"),
    "signup_burst": ("sign-up burst", "sign-up bursts"),
}


def _family_of(kind: int) -> str:
    if kind == SIGNUP_BURST:
        return Family.TIMING.label
    from graph.types import Kind

    return KIND_FAMILY[Kind(kind)].label


def shared_values(g: AccountGraph, row_of_account: np.ndarray) -> pd.DataFrame:
    """Per cluster row and value: how many members share it (only values shared inside)."""
    v = g.values
    row = row_of_account[v.account]
    m = row >= 0
    frame = pd.DataFrame(
        {"c": row[m], "kind": v.kind[m], "key": v.key[m], "w": v.weight[m], "df": v.df[m]}
    )
    agg = (
        frame.groupby(["c", "kind", "key"], sort=False)
        .agg(members=("w", "size"), w=("w", "first"), df=("df", "first"))
        .reset_index()
    )
    agg = agg[agg["members"] >= 2]
    agg["rank"] = agg["members"] * agg["w"]
    agg = agg.sort_values(["c", "rank"], ascending=[True, False])
    return agg


def explain(
    inp: DetectionInput,
    g: AccountGraph,
    labels: np.ndarray,
    table: ClusterTable,
    scores: np.ndarray,
    contributions: pd.DataFrame,
    *,
    display: Display | None = None,
) -> list[Explanation]:
    """One explanation per cluster row of ``table``."""
    labels_to_row = np.full(int(labels.max()) + 1 if len(labels) else 0, -1)
    labels_to_row[table.labels] = np.arange(len(table.labels))
    row_of_account = labels_to_row[labels] if len(labels) else labels
    shared = shared_values(g, row_of_account)
    shared = shared.assign(family=[_family_of(int(k)) for k in shared["kind"]])
    top = shared.groupby(["c", "family"], sort=False).head(TOP_VALUES)
    wanted = {
        (int(k), int(key))
        for k, key in zip(top["kind"].tolist(), top["key"].tolist(), strict=True)
        if int(k) != SIGNUP_BURST
    }
    shown = dict(display(sorted(wanted))) if display and wanted else {}
    by_cluster = _Rows(top, ("family", "kind", "key", "members", "w", "df"))
    kinds_by_cluster = _Rows(shared, ("kind",))
    covered = _members_sharing(g, row_of_account, shared)
    templates = _templates(inp, g, row_of_account, len(table.labels))
    timeline = _timeline(inp, row_of_account, len(table.labels))
    # plain rows (a pandas row lookup per cluster and column cost seconds at 100k accounts)
    feature_rows = table.features[list(FEATURES)].to_dict("records")
    terms = ("intercept", *FEATURES)
    contrib_rows = contributions[list(terms)].to_numpy(dtype=np.float64)
    kind_rows = table.distill_kinds.to_dict("records")
    family_totals_all = _family_totals(shared)
    out: list[Explanation] = []
    for i in range(len(table.labels)):
        members = table.members[i]
        f = feature_rows[i]
        evidence = _evidence(by_cluster.of(i), shown)
        totals = _totals(kinds_by_cluster.of(i)[0])
        family_totals = family_totals_all.get(i, {})
        more = {
            fam: family_totals[fam] - len(items)
            for fam, items in evidence.items()
            if family_totals.get(fam, 0) > len(items)
        }
        breakdown = {
            k: round(float(v), 3)
            for k, v in zip(terms, contrib_rows[i], strict=True)
            if abs(float(v)) >= 0.005
        }
        signals = {
            Family(k).label: round(float(f[f"cov_{Family(k).label}"]), 3)
            for k in range(N_FAMILIES)
            if f[f"cov_{Family(k).label}"] > 0
        }
        behaviour = {
            "requests": int(inp.accounts.requests[members].sum()),
            "requests_per_account_median": float(np.median(inp.accounts.requests[members])),
            "distillation_share": round(float(f["distill_share"]), 3),
            "distillation_kinds": {k: round(float(v), 3) for k, v in kind_rows[i].items() if v > 0},
            "template_concentration": round(float(f["template_concentration"]), 3),
            "signup_burst_share": round(float(f["burst"]), 3),
            "new_account_share": round(float(f["young_share"]), 3),
            "machine_email_excess": round(float(f["machine_email"]), 3),
            "disposable_email_share": round(float(f["disposable_email"]), 3),
            "org_consistency": round(float(f["org_consistency"]), 3),
        }
        sharing = covered.get(i, {})
        out.append(
            {
                "summary": _summary(len(members), totals, sharing, behaviour),
                "signals": signals,
                "evidence": evidence,
                "evidence_more": more,
                "shared_value_counts": totals,
                "members_sharing": sharing,
                "behaviour": behaviour,
                "templates": templates.get(i, []),
                "timeline": timeline.get(i, {}),
                "score": round(float(scores[i]), 4),
                "score_breakdown": breakdown,
                "drivers": drivers(breakdown),
                "features": {k: round(float(f[k]), 4) for k in FEATURES},
            }
        )
    return out


def drivers(breakdown: Mapping[str, float], top: int = TOP_DRIVERS) -> list[Driver]:
    """The features that push the score most, up first, in plain words.

    >>> [d["feature"] for d in drivers({"intercept": -4, "burst": 1.5, "org_consistency": -2,
    ...                                  "young_share": 0.5})]
    ['burst', 'young_share', 'org_consistency']
    """
    items = [(k, v) for k, v in breakdown.items() if k != "intercept" and v != 0]
    up = sorted((kv for kv in items if kv[1] > 0), key=lambda kv: -kv[1])[:top]
    down = sorted((kv for kv in items if kv[1] < 0), key=lambda kv: kv[1])[: max(1, top // 2)]
    return [
        {"feature": k, "label": FEATURE_LABELS.get(k, k), "contribution": round(v, 3)}
        for k, v in up + down
    ]


def _members_sharing(
    g: AccountGraph, row_of_account: np.ndarray, shared: pd.DataFrame
) -> dict[int, dict[str, int]]:
    """Per cluster row and kind: how many members hold a value shared inside the cluster."""
    v = g.values
    row = row_of_account[v.account]
    m = row >= 0
    frame = pd.DataFrame({"c": row[m], "kind": v.kind[m], "key": v.key[m], "a": v.account[m]})
    inside = shared[["c", "kind", "key"]]
    frame = frame.merge(inside, on=["c", "kind", "key"], how="inner")
    per = frame.drop_duplicates(["c", "kind", "a"]).groupby(["c", "kind"]).size().reset_index()
    out: dict[int, dict[str, int]] = {}
    for c, k, n in zip(per["c"].tolist(), per["kind"].tolist(), per[0].tolist(), strict=True):
        out.setdefault(int(c), {})[kind_name(int(k))] = int(n)
    return out


def _family_totals(shared: pd.DataFrame) -> dict[int, dict[str, int]]:
    """Per cluster row and family: how many distinct values its members share."""
    per = shared.groupby(["c", "family"]).size().reset_index()
    out: dict[int, dict[str, int]] = {}
    for c, fam, n in zip(per["c"].tolist(), per["family"].tolist(), per[0].tolist(), strict=True):
        out.setdefault(int(c), {})[str(fam)] = int(n)
    return out


def _evidence(
    top: tuple[list[Any], ...], shown: Mapping[tuple[int, int], str]
) -> dict[str, list[SharedValue]]:
    out: dict[str, list[SharedValue]] = {}
    for fam, k, key, members, w, df in zip(*top, strict=True):
        value = shown.get((k, key))
        if k == SIGNUP_BURST:
            value = datetime.fromtimestamp(key * 3600, UTC).strftime("%Y-%m-%dT%H:00Z")
        out.setdefault(str(fam), []).append(
            {
                "kind": kind_name(k),
                "value": value,
                "value_key": str(key),
                "members": int(members),
                "accounts_sharing": int(df),
                "weight": round(float(w), 4),
            }
        )
    return out


def _totals(kinds: list[int]) -> dict[str, int]:
    """Distinct shared values per kind, in kind order."""
    return {kind_name(k): n for k, n in sorted(Counter(kinds).items())}


def _summary(
    size: int, totals: dict[str, int], sharing: dict[str, int], behaviour: dict[str, Any]
) -> str:
    """One sentence: how many members share what (counted in members, with the number of
    values), then what they do.

    >>> _summary(150, {"card": 10, "ip_range": 3569}, {"card": 150, "ip_range": 140},
    ...          {"distillation_share": 0, "signup_burst_share": 0, "org_consistency": 0})
    '150 accounts: 150 share 10 payment cards, 140 share IP ranges.'
    """
    order = [
        "card",
        "device",
        "email",
        "phone",
        "api_key",
        "ip",
        "ip_range",
        "bin_postcode",
        "billing_name",
        "template",
        "signup_burst",
        "attribute",
        "name",
        "user_agent",
    ]
    parts = []
    for k in order:
        if totals.get(k):
            one, many = _NOUNS[k]
            held = sharing.get(k, 0)
            what = f"{held} share " if held else ""
            # a few values are worth counting; thousands of shared ranges are not
            n = totals[k]
            noun = (
                (f"{_article(one)} {one}" if n == 1 else f"{n} {many}")
                if n <= min(20, size)
                else many
            )
            parts.append(f"{what}{noun}")
        if len(parts) == 3:
            break
    tied = ": " + ", ".join(parts) if parts else " acting together in time"
    s = f"{size} accounts{tied}"
    extra = []
    share = behaviour["distillation_share"]
    if share >= 0.2:
        kinds = behaviour["distillation_kinds"]
        main = max(kinds, key=kinds.get) if kinds else "reasoning"
        what = {
            "reasoning": "step-by-step reasoning",
            "agentic": "agentic tool traces",
            "grading": "rubric grading",
        }[main]
        extra.append(f"{round(share * 100)}% of their prompts ask for {what}")
    if behaviour["signup_burst_share"] >= 0.5 and size >= 4:
        extra.append(f"{round(behaviour['signup_burst_share'] * 100)}% signed up within 24 hours")
    if behaviour["org_consistency"] >= 0.5:
        extra.append("they declare one organisation with a consistent company email domain")
    return s + ("; " + "; ".join(extra) if extra else "") + "."


def _article(noun: str) -> str:
    return "an" if noun[0] in "aeiouAEIO" else "a"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _templates(
    inp: DetectionInput, g: AccountGraph, row: np.ndarray, k: int
) -> dict[int, list[Template]]:
    act = inp.activity
    r = row[act.account]
    m = (r >= 0) & (act.template != 0)
    frame = pd.DataFrame({"c": r[m], "t": act.template[m], "n": act.n[m]})
    if frame.empty:
        return {}
    per = frame.groupby(["c", "t"], sort=False)["n"].sum().reset_index()
    per = per.sort_values(["c", "n"], ascending=[True, False]).groupby("c").head(TOP_TEMPLATES)
    shown = per["t"].to_numpy(dtype=np.int64)
    skel = inp.templates.texts_of(shown)
    sig = g.templates.signature(g.templates.of(shown))
    out: dict[int, list[Template]] = {}
    for c, t, n, text, name in zip(per["c"], shown, per["n"], skel, sig, strict=True):
        out.setdefault(int(c), []).append(
            {
                "template_key": str(int(t)),
                "skeleton": text,
                "requests": int(n),
                "signature": name or None,
            }
        )
    return out


def _timeline(inp: DetectionInput, row: np.ndarray, k: int) -> dict[int, dict[str, Any]]:
    acc = inp.accounts
    m = row >= 0
    days = acc.created[m] // 86_400
    signups = (
        pd.DataFrame({"c": row[m], "d": days, "n": 1}).groupby(["c", "d"])["n"].sum().reset_index()
    )
    act = inp.activity
    r = row[act.account]
    am = r >= 0
    adays = act.window[am] * act.window_seconds // 86_400
    activity = (
        pd.DataFrame({"c": r[am], "d": adays, "n": act.n[am]})
        .groupby(["c", "d"])["n"]
        .sum()
        .reset_index()
    )
    out: dict[int, dict[str, Any]] = {}
    for frame, name in ((signups, "signups_per_day"), (activity, "requests_per_day")):
        cols = (frame["c"].tolist(), frame["d"].tolist(), frame["n"].tolist())
        for c, d, v in zip(*cols, strict=True):
            entry = out.setdefault(int(c), {"signups_per_day": {}, "requests_per_day": {}})
            entry[name][_day(int(d))] = int(v)
    return out


class _Rows:
    """Each cluster's rows of a frame sorted by cluster (``c``), as plain Python lists: a
    cluster's slice costs a list slice, not a DataFrame (28,318 clusters at 1M accounts)."""

    def __init__(self, frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
        c = frame["c"].to_numpy()
        starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]]) if len(c) else np.zeros(0, int)
        ends = np.r_[starts[1:], len(c)] if len(c) else starts
        self._at = dict(
            zip(c[starts].tolist(), zip(starts.tolist(), ends.tolist(), strict=True), strict=True)
        )
        self._columns = [frame[col].tolist() for col in columns]

    def of(self, cluster: int) -> tuple[list[Any], ...]:
        """The cluster's values of each column (empty lists for a cluster with no rows)."""
        lo, hi = self._at.get(cluster, (0, 0))
        return tuple(col[lo:hi] for col in self._columns)


def _day(d: int) -> str:
    return datetime.fromtimestamp(d * 86_400, UTC).strftime("%Y-%m-%d")

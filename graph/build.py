"""Evidence -> weighted account graph, with each edge's evidence kept per family.

For every kind of value (card, IP, device, template, ...) accounts sharing a value are linked.
A value's weight falls with the number of accounts sharing it (``rarity``); values shared by
more than ``public_cap`` accounts are public (a campus NAT, a popular template) and do not
link at all, while everything else the same accounts share still does.

Pairs are never enumerated value by value: per family, the account x value incidence matrix
``B`` (entries ``sqrt(weight)``) gives all pair sums at once as ``B @ B.T`` (scipy, in C), so
memory follows the number of linked pairs, and the cap bounds the work per value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from graph.arrays import distinct
from graph.data import Activity, DetectionInput, Incidence, TemplateGroups
from graph.pairs import EdgeRule, edges, family_matrices, pair_sums
from graph.signals.prompts import TEMPLATE_SEED
from graph.templates import group_templates
from graph.types import KIND_FAMILY, Family, Kind

SIGNUP_BURST = 100  # internal kind: accounts created in the same hour, in a burst
BURST_SIGMAS = 3  # sign-ups per hour are roughly Poisson: 3 standard deviations of noise

# Hard identifiers (a card, a device, a phone, an email, an API key) weigh double: sharing
# one with many accounts is itself suspicious, unlike sharing an IP.
DEFAULT_KIND_WEIGHT: dict[int, float] = {
    Kind.CARD: 2.0,
    Kind.BIN_POSTCODE: 0.35,
    Kind.BILLING_NAME: 0.4,
    Kind.IP: 0.6,
    Kind.IP_RANGE: 0.25,
    Kind.DEVICE: 2.0,
    Kind.EMAIL: 2.0,
    Kind.PHONE: 2.0,
    Kind.API_KEY: 2.0,
    Kind.ATTRIBUTE: 0.6,
    Kind.NAME: 0.15,
    Kind.USER_AGENT: 0.03,
    Kind.TEMPLATE: 0.4,
    SIGNUP_BURST: 0.5,
}


@dataclass(frozen=True)
class BuildParams:
    public_cap: int = 256
    kind_weight: dict[int, float] = field(default_factory=lambda: dict(DEFAULT_KIND_WEIGHT))
    family_weight: tuple[float, ...] = (1.0, 1.0, 1.0, 0.8, 1.0)  # indexed by Family
    timing_cap: int = 128  # a busier (window, template) cell is a rush hour, not a signal
    timing_min_shared: int = 3
    timing_min_lift: float = 2.0
    timing_null_factor: float = 1.5  # people are active ~2/3 of the day
    timing_scale: float = 2.0
    signup_bucket_seconds: int = 3600
    burst_min: int = 8
    burst_factor: float = 4.0
    burst_context_hours: int = 72
    min_edge_weight: float = 0.3
    template_seed: int = TEMPLATE_SEED


@dataclass
class ValueTable:
    """The linking values kept (shared, not public), one row per account and value."""

    account: np.ndarray
    kind: np.ndarray
    key: np.ndarray
    weight: np.ndarray
    df: np.ndarray


@dataclass
class AccountGraph:
    n: int
    src: np.ndarray  # int32, src < dst
    dst: np.ndarray
    weight: np.ndarray  # float64: combined evidence
    family: np.ndarray  # float32 (edges x families): each family's contribution in [0, 1)
    values: ValueTable
    public_values: dict[str, int]
    templates: TemplateGroups
    timing_keys: int = 0

    @property
    def n_edges(self) -> int:
        return len(self.src)


def rarity(df: np.ndarray) -> np.ndarray:
    """Weight of a value shared by ``df`` accounts: 1 for a pair, falling as 1/sqrt(df-1).

    >>> rarity(np.array([2, 5, 101])).round(2).tolist()
    [1.0, 0.5, 0.1]
    """
    return 1.0 / np.sqrt(np.maximum(df, 2) - 1.0)


def _dedupe_pairs(account: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (account, key) rows, sorted by key, then account (any integer columns,
    the first non-negative; the second is the major order). When the key's range and the
    account rows fit in 63 bits together, each row is one int64 and NumPy sorts those (one
    vectorised sort instead of a two-key ``lexsort``, through ``graph.arrays.distinct``).

    >>> a, k = _dedupe_pairs(np.array([2, 0, 2, 1]), np.array([-5, 9, -5, -5]))
    >>> a.tolist(), k.tolist()
    ([1, 2, 0], [-5, -5, 9])
    """
    if len(key) and int(account.min()) >= 0:
        low = int(key.min())
        shift = max(int(account.max()).bit_length(), 1)
        if (int(key.max()) - low).bit_length() + shift <= 63:
            packed = distinct(((key - low).astype(np.int64) << shift) | account)
            rows = (packed & ((1 << shift) - 1)).astype(account.dtype)
            return rows, ((packed >> shift) + low).astype(key.dtype)
    order = np.lexsort((account, key))
    a, k = account[order], key[order]
    keep = np.ones(len(k), dtype=bool)
    keep[1:] = (k[1:] != k[:-1]) | (a[1:] != a[:-1])
    return a[keep], k[keep]


def value_codes(kind: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense code per (kind, key) pair and the (kind, key) of each code: the keys of each kind
    (a few small non-negative integers) numbered by a hash table, one kind after another
    (2-3x faster than a group-by on both columns at 5M rows).

    >>> codes, kk = value_codes(np.array([4, 1, 4, 4]), np.array([7, 7, 9, 7]))
    >>> codes.tolist(), kk.tolist()
    ([1, 0, 2, 1], [[1, 7], [4, 7], [4, 9]])
    """
    codes = np.empty(len(kind), dtype=np.int64)
    kinds: list[np.ndarray] = []
    keys: list[np.ndarray] = []
    offset = 0
    for k in np.flatnonzero(np.bincount(kind)).tolist() if len(kind) else []:
        rows = np.flatnonzero(kind == k)
        local, uniq = pd.factorize(key[rows])
        codes[rows] = local + offset
        offset += len(uniq)
        kinds.append(np.full(len(uniq), k, dtype=np.int64))
        keys.append(np.asarray(uniq, dtype=np.int64))
    if not keys:
        return codes, np.zeros((0, 2), dtype=np.int64)
    return codes, np.stack([np.concatenate(kinds), np.concatenate(keys)], axis=1)


def _group_df(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted keys: the dense value index of each row and the size of its group."""
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, int)
    sizes = np.diff(np.r_[starts, len(key)])
    idx = np.repeat(np.arange(len(starts)), sizes)
    return idx, sizes[idx]


def _signup_bursts(inp: DetectionInput, p: BuildParams) -> Incidence:
    """Accounts created in an hour with far more sign-ups than the hours around it.

    The baseline is the median hourly count over the surrounding ``burst_context_hours``, so
    a platform's growth or a launch-day surge is not mistaken for a burst.
    """
    created = inp.accounts.created
    bucket = created // p.signup_bucket_seconds
    if len(bucket) == 0:
        return Incidence(*(np.zeros(0, dtype=t) for t in (np.int32, np.int16, np.int64, np.int64)))
    lo = int(bucket.min())
    hourly = np.bincount(bucket - lo).astype(np.float64)
    baseline = (
        pd.Series(hourly)
        .rolling(2 * p.burst_context_hours + 1, center=True, min_periods=1)
        .median()
        .to_numpy()
    )
    # a burst: well above the hour's context, and beyond Poisson noise around it
    noise = BURST_SIGMAS * np.sqrt(baseline)
    threshold = np.maximum(p.burst_min, p.burst_factor * baseline + noise)
    in_burst = hourly[bucket - lo] >= threshold[bucket - lo]
    acc = np.flatnonzero(in_burst).astype(np.int32)
    return Incidence(
        account=acc,
        kind=np.full(len(acc), SIGNUP_BURST, dtype=np.int16),
        key=bucket[in_burst].astype(np.int64),
        n=np.ones(len(acc), dtype=np.int64),
    )


@dataclass
class Timing:
    """Shared (window, template) cells per pair, and each pair's chance expectation."""

    counts: sp.coo_matrix
    expected: np.ndarray
    cells: int


def _timing(act: Activity, n: int, p: BuildParams) -> Timing:
    """SynchroTrap co-activity: how many (window, template) cells two accounts share.

    Two busy accounts share windows by chance, so each pair's count is compared with what
    independent accounts would share: ``windows(a) * windows(b) / windows in the data``.
    A popular template is no reason to drop its cells: two strangers using it rarely share a
    window, and cells busier than ``timing_cap`` accounts are dropped.
    """
    empty = Timing(sp.coo_matrix((n, n)), np.zeros(0), 0)
    m = act.template != 0
    m[m] = ~scheduled(act.account[m], act.template[m], act.window[m], act.window_seconds)
    if not m.any():
        return empty
    tpl_codes = pd.factorize(act.template[m])[0].astype(np.int64)
    cell = act.window[m].astype(np.int64) * (int(tpl_codes.max()) + 1) + tpl_codes
    a, k = _dedupe_pairs(act.account[m], cell)
    col, df = _group_df(k)
    keep = (df >= 2) & (df <= p.timing_cap)
    if not keep.any():
        return empty
    col = pd.factorize(col[keep])[0]
    # most pairs share one cell by chance: dropped block by block, never all held at once
    counts = pair_sums(n, a[keep], col, np.ones(int(keep.sum())), p.timing_min_shared)
    # per account: distinct active windows, first and last window (sorted, no ufunc.at)
    sw, sa = _dedupe_pairs(act.window, act.account)  # distinct, by account then window
    active = np.bincount(sa, minlength=n).astype(np.float64)
    starts = np.flatnonzero(np.r_[True, sa[1:] != sa[:-1]])
    ends = np.r_[starts[1:], len(sa)] - 1
    first = np.zeros(n, dtype=np.int64)
    last = np.zeros(n, dtype=np.int64)
    first[sa[starts]] = sw[starts]
    last[sa[starts]] = sw[ends]
    r, c = counts.row, counts.col
    span_r = (last[r] - first[r] + 1).astype(np.float64)
    span_c = (last[c] - first[c] + 1).astype(np.float64)
    overlap = np.maximum(np.minimum(last[r], last[c]) - np.maximum(first[r], first[c]) + 1, 1)
    # independent accounts spread their windows evenly over their own active spans
    expected = p.timing_null_factor * active[r] * active[c] * overlap / (span_r * span_c)
    return Timing(counts, expected, int(col.max()) + 1)


CLOCKWORK_SHARE = 0.8  # a template used in one band of the hour (or day) this often is a job
CLOCKWORK_MIN_WINDOWS = 5


def scheduled(
    account: np.ndarray, template: np.ndarray, window: np.ndarray, window_seconds: int
) -> np.ndarray:
    """Per activity row: whether its account uses its template on a schedule.

    A scheduled job (a cron task, a lab's nightly evaluation harness) sends its template in
    the same part of every hour, or of every day, so two such jobs on the same schedule share
    windows all the time without any coordination. A (account, template) is scheduled when at
    least ``CLOCKWORK_SHARE`` of its (at least ``CLOCKWORK_MIN_WINDOWS``) windows fall in one
    band of two adjacent slots: 10-minute slots of the hour, or hours of the day.

    >>> w = np.arange(10) * 144 + 12  # ten days, each at 02:00 (10-minute windows)
    >>> scheduled(np.zeros(10, int), np.ones(10, int), w, 600).all()
    np.True_
    >>> scheduled(np.zeros(10, int), np.ones(10, int), np.arange(10) * 151, 600).any()
    np.False_
    """
    out = np.zeros(len(account), dtype=bool)
    if len(account) == 0:
        return out
    combo = pd.factorize(account.astype(np.int64) * (1 << 32) + template.astype(np.int64))[0]
    windows = np.bincount(combo)
    busy = windows[combo] >= CLOCKWORK_MIN_WINDOWS
    if not busy.any():
        return out
    rows = np.flatnonzero(busy)
    code = pd.factorize(combo[rows])[0]
    total = np.bincount(code).astype(np.float64)
    for slots, slot_seconds in ((3600 // window_seconds, window_seconds), (24, 3600)):
        if slots < 2:
            continue
        phase = (window[rows] * window_seconds // slot_seconds) % slots
        counts = np.bincount(code * slots + phase, minlength=len(total) * slots)
        m = counts.reshape(len(total), slots)
        band = (m + np.roll(m, -1, axis=1)).max(axis=1)
        out[rows] |= (band / total >= CLOCKWORK_SHARE)[code]
    return out


def build_graph(inp: DetectionInput, params: BuildParams | None = None) -> AccountGraph:
    """Link accounts by shared evidence; return the pruned, weighted graph."""
    p = params or BuildParams()
    n = len(inp.accounts)
    groups = (
        inp.template_groups
        if inp.template_groups is not None and p.template_seed == TEMPLATE_SEED
        else group_templates(inp.templates, p.template_seed)
    )

    a, v, vkind, df, uniq_kk, public_counts = _linking_values(inp, groups, p)
    kw = np.array([p.kind_weight.get(int(k_), 0.0) for k_ in range(max(SIGNUP_BURST, 23) + 1)])
    w = kw[vkind] * rarity(df)
    fam_of_kind = np.full(len(kw), -1)
    for k_, f_ in KIND_FAMILY.items():
        fam_of_kind[int(k_)] = int(f_)
    fam_of_kind[SIGNUP_BURST] = int(Family.TIMING)
    matrices = family_matrices(n, a, v, w, fam_of_kind[vkind])

    act = inp.activity
    act_tpl = groups.of(act.template)
    timing = _timing(Activity(act.account, act.window, act_tpl, act.n, act.window_seconds), n, p)
    rule = EdgeRule(np.asarray(p.family_weight, dtype=np.float64), p.min_edge_weight)
    src, dst, fam = edges(n, matrices, _timing_pairs(timing, p), rule)
    del matrices
    weight = (fam * np.array(p.family_weight, dtype=np.float32)[None, :]).sum(axis=1)
    strong = weight >= p.min_edge_weight
    return AccountGraph(
        n=n,
        src=src[strong],
        dst=dst[strong],
        weight=weight[strong].astype(np.float64),
        family=fam[strong],
        values=ValueTable(
            account=a.astype(np.int32),
            kind=vkind.astype(np.int16),
            key=uniq_kk[v, 1],
            weight=w,
            df=df,
        ),
        public_values=public_counts,
        templates=groups,
        timing_keys=timing.cells,
    )


def _linking_values(
    inp: DetectionInput, groups: TemplateGroups, p: BuildParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """The (account, value) rows that can link accounts: every value two or more accounts
    hold and no more than ``public_cap`` (templates counted by group; sign-up bursts
    included). Returns accounts, dense value codes, kinds, holder counts, each code's
    (kind, key), and how many values of each kind were too public to link. The full-length
    intermediates (tens of millions of rows at 1M accounts) are freed on return."""
    inc = inp.incidence
    keys = inc.key.copy()
    is_tpl = inc.kind == Kind.TEMPLATE
    keys[is_tpl] = groups.of(keys[is_tpl])
    del is_tpl
    bursts = _signup_bursts(inp, p)
    keys = np.concatenate([keys, bursts.key])
    kind = np.concatenate([inc.kind, bursts.kind])
    # one value space per kind: (kind, key) -> dense code
    value_code, uniq_kk = value_codes(kind, keys)
    del keys, kind
    a, v = _dedupe_pairs(np.concatenate([inc.account, bursts.account]), value_code)
    del value_code
    _, df = _group_df(v)
    vkind = uniq_kk[v, 0]
    public = df > p.public_cap
    public_counts: dict[str, int] = {}
    for k_ in np.unique(vkind[public]).tolist():
        mask = public & (vkind == k_)
        public_counts[_kind_name(int(k_))] = int(distinct(v[mask]).size)
    keep = (df >= 2) & ~public
    return a[keep], v[keep], vkind[keep], df[keep], uniq_kk, public_counts


def _timing_pairs(timing: Timing, p: BuildParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The timing family's pairs, in row order: shared cells well above chance, as
    ``1 - exp(-excess)``."""
    t = timing.counts
    lift = t.data / np.maximum(timing.expected, 0.5) if t.nnz else t.data
    excess = np.maximum(lift - p.timing_min_lift, 0) / p.timing_scale
    ok = (t.data >= p.timing_min_shared) & (excess > 0)
    row, col, val = (
        t.row[ok].astype(np.int32),
        t.col[ok].astype(np.int32),
        1.0 - np.exp(-excess[ok]),
    )
    if len(row) > 1 and (row[1:] < row[:-1]).any():
        order = np.argsort(row, kind="stable")
        row, col, val = row[order], col[order], val[order]
    return row, col, val


def one_off_templates(inp: DetectionInput, g: AccountGraph) -> np.ndarray:
    """Template keys whose group (near-duplicates included) only one account has used.

    Such a template links nobody: it carries no evidence, so its prompt samples need not be
    kept (prompt texts are personal data). When a near-duplicate from another account
    arrives later, the group forms again from the skeletons, and new samples come with it.
    """
    inc = inp.incidence
    m = inc.kind == Kind.TEMPLATE
    if not m.any():
        return np.zeros(0, dtype=np.int64)
    keys = inc.key[m]
    # hash-based throughout (millions of templates on real traffic: sorting them was ~3 s)
    group = pd.factorize(g.templates.of(keys))[0].astype(np.int64)
    pairs = pd.unique(group * np.int64(max(g.n, 1)) + inc.account[m])  # distinct (group, account)
    users = np.bincount(pairs // max(g.n, 1), minlength=int(group.max()) + 1)
    return np.sort(pd.unique(keys[users[group] == 1]))


_KIND_NAMES = {int(k): k.name.lower() for k in Kind} | {SIGNUP_BURST: "signup_burst"}


def _kind_name(kind: int) -> str:
    return _KIND_NAMES.get(kind, str(kind))


def kind_name(kind: int) -> str:
    """Public name of a value kind (``card``, ``ip_range``, ``signup_burst``...)."""
    return _kind_name(kind)

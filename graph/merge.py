"""Reunite a network that community detection cut into pieces, by the values the pieces share.

Pairwise edges cannot hold a network together when its members never act at the same time:
a burn-and-churn network's accounts live a few days each, so co-activity links only the
accounts alive together, and the partition follows the cohorts. What the cohorts do share is
a value: the same (paraphrased) template group, a device, an issuer. A value that most
members of several communities hold, and that almost nobody outside them holds, is one
operation's fingerprint; those communities become one.

Declared organisations are left as they are: two labs running the same public evaluation
harness share its template, not an operation.

>>> labels = np.array([0, 0, 1, 1, 2, 2])
>>> account = np.array([0, 1, 2, 3])  # accounts 0-3 hold the value; 4 and 5 do not
>>> merge_on_shared_values(labels, account, np.zeros(4, int), min_holders=4).tolist()
[0, 0, 0, 0, 1, 1]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from graph.arrays import distinct
from graph.build import AccountGraph, value_codes
from graph.types import Kind

MIN_HOLDERS = 10  # a value held by fewer accounts is a household's or a friend's, not a fleet's
HOLDER_SHARE = 0.5  # a community holds a value when half its members (two at least) do
CONCENTRATION = 0.9  # ...and the holding communities hold nearly all of the value's accounts
MAJORITY = 0.5  # ...counting accounts left on their own only here (see _concentrated)
ORG_SHARE = 0.5  # a community whose members mostly declare one organisation stays itself
PIECE_MAX = 3  # a community this small, holding a fleet's device or card, rejoins the fleet
MIXED_MAX = 8  # a tied fleet member leaves a community this small (see _rejoin_tied)
#: Values that mark one operator: its templates, devices, cards and keys (not addresses or
#: names, which strangers share behind a NAT or by chance).
FLEET_KINDS = (Kind.TEMPLATE, Kind.DEVICE, Kind.CARD, Kind.API_KEY, Kind.PHONE)


def merge_on_shared_values(
    labels: np.ndarray,
    account: np.ndarray,
    value: np.ndarray,
    *,
    org_community: np.ndarray | None = None,
    hard: np.ndarray | None = None,
    min_holders: int = MIN_HOLDERS,
) -> np.ndarray:
    """Labels after merging communities that share a fleet's value.

    ``account``/``value`` list who holds which value (one row per holder; values already cut
    to the linking ones, not public). ``org_community`` flags communities that are one
    declared organisation (indexed by label); those are never merged. ``hard`` flags rows whose
    value is a hard identifier (a device, a card): an account that community detection left on
    its own (a late sign-up with a few requests) rejoins its fleet through one of those, while
    a soft value (a template) needs two holders in a community to count.
    """
    if len(account) == 0:
        return labels
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=k)
    is_hard = np.zeros(len(value), dtype=bool) if hard is None else hard
    per = (
        pd.DataFrame({"v": value, "a": account, "c": labels[account], "hard": is_hard})
        .drop_duplicates(["v", "a"])
        .groupby(["v", "c"], sort=False)
        .agg(held=("a", "size"), hard=("hard", "first"))
        .reset_index()
    )
    total = per.groupby("v")["held"].transform("sum").to_numpy()
    held, c = per["held"].to_numpy(), per["c"].to_numpy()
    holds = (held >= 2) & (held >= HOLDER_SHARE * sizes[c])
    if org_community is not None:
        holds &= ~org_community[c]
    per = per.assign(holds=holds, total=total)
    ties = _hard_ties(per[per["hard"].to_numpy()], k)
    per = per[per["total"] >= min_holders]
    held_by = per[per["holds"]].groupby("v")["held"].agg(["sum", "size"])
    fleet = held_by[(held_by["size"] >= 2)]
    fleet = fleet[_concentrated(per, sizes, fleet)]
    links = per[per["holds"] & per["v"].isin(fleet.index)]
    # communities holding the same fleet value are linked through it (a star per value)
    first = links.groupby("v")["c"].transform("first").to_numpy()
    piece, anchor = _pieces(per, sizes, org_community, min_holders, ties)
    a = np.concatenate([links["c"].to_numpy(), piece])
    b = np.concatenate([first, anchor])
    comp = np.arange(k)
    if len(a):
        graph = sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(k, k))
        comp = connected_components(graph, directed=False)[1]
    org_merged = None
    if org_community is not None:  # a merged community is an organisation's if a part was
        org_merged = np.zeros(int(comp.max()) + 1, dtype=bool)
        np.logical_or.at(org_merged, comp, org_community[:k])
    return _rejoin_tied(comp[labels], account, value, is_hard, org_merged, min_holders)


def _rejoin_tied(
    labels: np.ndarray,
    account: np.ndarray,
    value: np.ndarray,
    hard: np.ndarray,
    org_community: np.ndarray | None,
    min_holders: int,
) -> np.ndarray:
    """Accounts pulled into small mixed communities rejoin their fleet one by one.

    At 1M accounts a paired-card fleet's card pairs land in communities of 3-8 accounts
    with strangers behind the same proxy exits: no piece rule applies (not all of a piece
    holds the fleet's template), and the strangers must stay where they are. A holder of a
    soft value (a template group) is *tied* when it shares a hard identifier (a card, a
    device) with another holder of the same value. When one community (the anchor, not a
    declared organisation) holds the value, the value has ``min_holders`` holders, and the
    anchor's holders and the tied ones are nearly all of them (``CONCENTRATION``), the tied
    holders in communities of at most ``MIXED_MAX`` accounts move to the anchor. A public
    template's users are rarely tied to each other, so it never passes."""
    soft = ~hard
    if not soft.any() or not hard.any():
        return labels
    rows = pd.DataFrame({"v": value, "a": account}).drop_duplicates()
    hv = rows[hard[rows.index.to_numpy()]].rename(columns={"v": "h"})
    sv = rows[soft[rows.index.to_numpy()]]
    both = sv.merge(hv, on="a")  # (soft value, account, hard value) of accounts holding both
    both = both[both.groupby(["v", "h"])["a"].transform("size") >= 2]
    if both.empty:
        return labels
    tied = both[["v", "a"]].drop_duplicates()
    sizes = np.bincount(labels)
    c = labels[sv["a"].to_numpy()]
    held = (
        pd.DataFrame({"v": sv["v"].to_numpy(), "c": c})
        .groupby(["v", "c"], sort=False)
        .size()
        .rename("held")
        .reset_index()
    )
    held["total"] = held.groupby("v")["held"].transform("sum").to_numpy()
    anchor = held.loc[held.groupby("v")["held"].idxmax()].set_index("v")
    anchor = anchor[
        (anchor["held"] >= 2)
        & (anchor["held"] >= HOLDER_SHARE * sizes[anchor["c"].to_numpy()])
        & (anchor["total"] >= min_holders)
    ]
    if org_community is not None and len(anchor):
        anchor = anchor[~org_community[anchor["c"].to_numpy()]]
    tied = tied[tied["v"].isin(anchor.index)]
    if tied.empty:
        return labels
    t_anchor = anchor["c"].reindex(tied["v"]).to_numpy()
    t_c = labels[tied["a"].to_numpy()]
    outside = t_c != t_anchor
    out_n = pd.Series(outside.astype(int)).groupby(tied["v"].to_numpy()).sum()
    inside = anchor["held"] + out_n.reindex(anchor.index, fill_value=0)
    fleet = inside[inside >= CONCENTRATION * anchor["total"]].index
    move = tied["v"].isin(fleet).to_numpy() & outside & (sizes[t_c] <= MIXED_MAX)
    if not move.any():
        return labels
    out = labels.copy()
    out[tied["a"].to_numpy()[move]] = t_anchor[move]
    return out


def _concentrated(per: pd.DataFrame, sizes: np.ndarray, fleet: pd.DataFrame) -> np.ndarray:
    """Which of ``fleet``'s values (held by two communities or more) are concentrated in the
    communities that hold them: at least ``CONCENTRATION`` of their holders placed in a
    community, and a ``MAJORITY`` of all holders.

    Accounts left on their own by community detection do not count against the value:
    a burn-and-churn fleet's short-lived accounts often have too few requests to tie them
    to anyone (measured at 100k: 20 of a template's 197 holders, all the fleet's). They
    still count in the majority, so a public prompt's many one-off users keep it from
    joining the few communities that also use it."""
    total = per.groupby("v")["total"].first().reindex(fleet.index).to_numpy()
    alone = per[sizes[per["c"].to_numpy()] == 1].groupby("v")["held"].sum()
    alone = alone.reindex(fleet.index, fill_value=0).to_numpy()
    held = fleet["sum"].to_numpy()
    return (held >= CONCENTRATION * (total - alone)) & (held >= MAJORITY * total)


def _hard_ties(hard: pd.DataFrame, k: int) -> np.ndarray:
    """Sorted codes ``a * k + b`` of the community pairs (both orders) whose members share a
    hard identifier (a card, a device, a key, a phone), whatever its number of holders."""
    pairs = hard[["v", "c"]].merge(hard[["v", "c"]], on="v")
    pairs = pairs[pairs["c_x"] != pairs["c_y"]]
    return distinct(pairs["c_x"].to_numpy(np.int64) * k + pairs["c_y"].to_numpy(np.int64))


def _pieces(
    per: pd.DataFrame,
    sizes: np.ndarray,
    org_community: np.ndarray | None,
    min_holders: int,
    ties: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(piece, anchor) pairs: a community of at most ``PIECE_MAX`` accounts, all holding a
    fleet value whose other holders are nearly all in one community, the anchor.

    Community detection leaves some of a sparse fleet's members on their own: a late sign-up
    with a few requests, or an account whose only ties are a card shared with one other
    member and the fleet's templates (a constant-Potts partition drops a member whose links
    into a big community are too few for its size). A hard identifier (a device, a card)
    says where it belongs; a fleet spreads its accounts over several devices, so the anchor
    holds a device with only some of its members. A soft value (a template group) says so
    only when it is the anchor's own (held by at least ``min_holders`` and by most of the
    anchor's members, the anchor not one declared organisation: two labs run the same
    public harness) and the piece also shares a hard identifier with the anchor, a card
    shared with one member say (``ties``): a public template that a fleet also uses has
    a few innocent users of its own."""
    if per.empty:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    anchor_row = per.groupby("v")["held"].idxmax()
    anchor = per.loc[anchor_row.to_numpy(), ["v", "c", "held"]].set_index("v")
    c = per["c"].to_numpy()
    is_anchor = c == anchor["c"].reindex(per["v"]).to_numpy()
    piece = (sizes[c] <= PIECE_MAX) & (per["held"].to_numpy() == sizes[c]) & ~is_anchor
    cand = per[piece]
    if cand.empty:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a_c = anchor["c"].reindex(cand["v"]).to_numpy()
    a_held = anchor["held"].reindex(cand["v"]).to_numpy()
    # the value's holders in the anchor and the communities that hold it (merged through
    # it as a fleet value), and with the pieces
    fleet = is_anchor | per["holds"].to_numpy()
    in_fleet = per[fleet].groupby("v")["held"].sum().reindex(cand["v"]).to_numpy()
    with_pieces = in_fleet + cand.groupby("v")["held"].transform("sum").to_numpy()
    total = cand["total"].to_numpy()
    ok = (a_held >= 2) & (with_pieces >= CONCENTRATION * total)
    # a template is the fleet's own when the fleet alone holds nearly all of it: a public
    # template's many lone users would otherwise make it look concentrated
    own = (a_held >= min_holders) & (a_held >= HOLDER_SHARE * sizes[a_c])
    own &= in_fleet >= CONCENTRATION * total
    if org_community is not None:
        own &= ~org_community[a_c]
    own &= np.isin(cand["c"].to_numpy(np.int64) * len(sizes) + a_c, ties)
    ok &= cand["hard"].to_numpy() | own
    return cand["c"].to_numpy()[ok], a_c[ok]


def reunite(g: AccountGraph, labels: np.ndarray, org: np.ndarray) -> np.ndarray:
    """:func:`merge_on_shared_values` over the graph's fleet values (``FLEET_KINDS``), with
    communities that are mostly one declared organisation (``org`` per account) left alone."""
    v = g.values
    m = np.isin(v.kind, np.array(FLEET_KINDS, dtype=v.kind.dtype))
    k = int(labels.max()) + 1 if len(labels) else 0
    declared = pd.Series(org).notna().to_numpy()
    org_community = np.zeros(k, dtype=bool)
    if declared.any():
        frame = pd.DataFrame({"c": labels[declared], "org": org[declared]})
        modal = frame.groupby(["c", "org"]).size().groupby("c").max()
        sizes = np.bincount(labels, minlength=k)
        idx = modal.index.to_numpy()
        org_community[idx] = modal.to_numpy() >= ORG_SHARE * sizes[idx]
    value, _ = value_codes(v.kind[m].astype(np.int64), v.key[m])
    hard = v.kind[m] != Kind.TEMPLATE
    return merge_on_shared_values(
        labels, v.account[m], value, org_community=org_community, hard=hard
    )

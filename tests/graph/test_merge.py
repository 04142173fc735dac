"""Fleet reunion (graph.merge): accounts that community detection left on their own rejoin
their fleet through the fleet's own values, and nobody else is pulled in."""

from __future__ import annotations

import numpy as np

from graph.merge import merge_on_shared_values

TEMPLATE, DEVICE = 1, 2
CARD = 10  # CARD + i: a card shared by two accounts (hard, like a device)


def _world(
    community_sizes: list[int], holders: dict[int, list[int]], n_alone: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Communities of the given sizes, then ``n_alone`` singletons; ``holders`` maps a value
    to the accounts holding it. Returns labels and the (account, value, hard) rows."""
    labels = np.concatenate(
        [np.full(s, i) for i, s in enumerate(community_sizes)]
        + [np.arange(len(community_sizes), len(community_sizes) + n_alone)]
    ).astype(np.int64)
    account = np.array([a for accts in holders.values() for a in accts], dtype=np.int64)
    value = np.array([v for v, accts in holders.items() for _ in accts], dtype=np.int64)
    return labels, account, value, value >= DEVICE


def _merged(labels: np.ndarray, account, value, hard, org=None) -> np.ndarray:  # type: ignore[no-untyped-def]
    return merge_on_shared_values(labels, account, value, hard=hard, org_community=org)


PAIRED = {CARD: [0, 20], CARD + 1: [1, 21]}  # the lone members' cards, each shared with one


def test_a_lone_member_rejoins_its_fleet_through_the_fleets_own_template() -> None:
    """A 20-account fleet all on one template group; two members left alone (their only
    ties: a card shared with one other member, and the template) rejoin it."""
    holders = {TEMPLATE: list(range(22))} | PAIRED
    labels, account, value, hard = _world([20], holders, n_alone=2)
    out = _merged(labels, account, value, hard)
    assert len(set(out.tolist())) == 1


def test_a_fleet_cut_in_two_takes_its_lone_members_too() -> None:
    holders = {TEMPLATE: list(range(22))} | PAIRED
    labels, account, value, hard = _world([10, 10], holders, n_alone=2)
    out = _merged(labels, account, value, hard)
    assert len(set(out.tolist())) == 1


def test_an_innocent_user_of_a_template_a_fleet_also_uses_stays_out() -> None:
    """The fleet's template is a public one that two strangers also use: without a card,
    device or key shared with the fleet, they stay on their own."""
    labels, account, value, hard = _world([20], {TEMPLATE: list(range(22))}, n_alone=2)
    out = _merged(labels, account, value, hard)
    assert out[20] != out[0] and out[21] != out[0]


def test_a_public_template_pulls_nobody_in() -> None:
    """Twelve colleagues and thirty strangers use one public template: the strangers stay
    on their own (the template is not concentrated in one community)."""
    labels, account, value, hard = _world([12], {TEMPLATE: list(range(42))}, n_alone=30)
    out = _merged(labels, account, value, hard)
    assert len(set(out[12:].tolist())) == 30
    assert not set(out[12:].tolist()) & {out[0]}


def test_a_template_few_of_the_community_use_is_not_its_fingerprint() -> None:
    """A 40-account community where 12 use a template, plus one stranger on it: a soft
    value that is not the community's own does not pull the stranger in; a device does."""
    holders = {TEMPLATE: [*range(12), 40]}
    labels, account, value, hard = _world([40], holders, n_alone=1)
    assert _merged(labels, account, value, hard)[40] != 0
    holders = {DEVICE: [*range(12), 40]}
    labels, account, value, hard = _world([40], holders, n_alone=1)
    assert _merged(labels, account, value, hard)[40] == 0


def test_a_declared_organisation_does_not_absorb_template_users() -> None:
    """Two labs run the same public evaluation harness: the lab's community keeps to itself."""
    holders = {TEMPLATE: list(range(22))} | PAIRED
    labels, account, value, hard = _world([20], holders, n_alone=2)
    org = np.zeros(int(labels.max()) + 1, dtype=bool)
    org[0] = True
    out = _merged(labels, account, value, hard, org)
    assert out[20] != out[0] and out[21] != out[0]


def test_a_fleet_cut_by_cohort_is_one_despite_its_burned_lone_members() -> None:
    """A burn-and-churn fleet: three cohorts of 30 on one template group, and 12 burned
    members with too few requests to tie them to anyone (seen at 100k: 20 of 197 holders).
    Lone accounts do not count against the template: the cohorts become one."""
    labels, account, value, hard = _world([30, 30, 30], {TEMPLATE: list(range(102))}, n_alone=12)
    out = _merged(labels, account, value, hard)
    assert out[0] == out[30] == out[60]
    assert len(set(out[90:].tolist())) == 12  # the lone members stay where they were


def test_a_prompt_mostly_used_by_strangers_does_not_join_two_teams() -> None:
    """Two teams of eight use a prompt that forty strangers also use once each: the teams
    hold all the template's placed holders, but not a majority of its users."""
    labels, account, value, hard = _world([8, 8], {TEMPLATE: list(range(56))}, n_alone=40)
    out = _merged(labels, account, value, hard)
    assert out[0] != out[8]


def test_card_pairs_pulled_among_strangers_rejoin_their_fleet_and_the_strangers_stay() -> None:
    """A paired-card fleet at 1M accounts: a core of 20 on the fleet's template, and two
    pairs (each on its own card, on the template too) that community detection put with
    three strangers behind the same proxy exit. The pairs rejoin the core; the strangers,
    who share neither card nor template, stay together."""
    labels = np.array([0] * 20 + [1, 1, 1, 1, 1] + [2, 2, 2, 2, 2], dtype=np.int64)
    pairs = {CARD: [20, 21], CARD + 1: [25, 26]}  # 22-24 and 27-29 are the strangers
    holders = {TEMPLATE: [*range(20), 20, 21, 25, 26]} | pairs
    account = np.array([a for accts in holders.values() for a in accts], dtype=np.int64)
    value = np.array([v for v, accts in holders.items() for _ in accts], dtype=np.int64)
    out = _merged(labels, account, value, value >= DEVICE)
    assert {out[20], out[21], out[25], out[26]} == {out[0]}
    assert len({out[0], out[22], out[27]}) == 3 and out[22] == out[23] == out[24]


def test_a_household_on_one_card_and_a_popular_template_stays_home() -> None:
    """Twelve colleagues use a template that thirty strangers also use; a couple sharing a
    card use it too. The couple is tied, but the colleagues and the couple are not nearly
    all of the template's users: nobody moves."""
    labels = np.array([0] * 12 + [1, 1, 1] + list(range(2, 32)), dtype=np.int64)
    holders = {TEMPLATE: [*range(12), 12, 13, *range(15, 45)], CARD: [12, 13]}
    account = np.array([a for accts in holders.values() for a in accts], dtype=np.int64)
    value = np.array([v for v, accts in holders.items() for _ in accts], dtype=np.int64)
    out = _merged(labels, account, value, value >= DEVICE)
    assert out[12] == out[13] == out[14] != out[0]

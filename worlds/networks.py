"""Planted networks: each style is one operator's camouflage (see ``STYLES``)."""

from __future__ import annotations

import numpy as np

from worlds import text
from worlds.builder import DAY, PROVIDERS, T0, UNIQUE, Builder, NetworkSpec


def _orchestrate(
    b: Builder,
    members: np.ndarray,
    *,
    per_account: int,
    templates: list[int],
    ip_pool: np.ndarray | None,
    start: np.ndarray,
    active_share: float,
    ua: int,
    hours: np.ndarray | None = None,
    stop: np.ndarray | None = None,
) -> None:
    """Sessions in which a share of the network acts in the same 10-minute window."""
    rng = b.rng
    total = per_account * len(members)
    per_session = max(2, int(len(members) * active_share))
    sessions = max(1, total // (per_session * 2))
    lo = int(max(T0, start.min()))
    slots = np.arange(lo - lo % 600, b.end, 600)
    if hours is not None:
        slots = slots[np.isin((slots % DAY) // 3600, hours)]
    chosen = rng.choice(slots, size=min(sessions, len(slots)), replace=False)
    acc, ts = [], []
    for t in chosen:
        alive = members[(start <= t) & ((stop is None) | (t < (stop if stop is not None else 0)))]
        if len(alive) == 0:
            continue
        who = rng.choice(alive, size=min(per_session, len(alive)), replace=False)
        acc.append(np.repeat(who, 2))
        ts.append(t + rng.integers(0, 600, size=2 * len(who)))
    if not acc:
        return
    a, t = np.concatenate(acc), np.concatenate(ts)
    ip = (
        ip_pool[rng.integers(0, len(ip_pool), size=len(a))]
        if ip_pool is not None
        else b.residential(len(a))
    )
    tpl = np.array(templates)[rng.integers(0, len(templates), size=len(a))]
    b.add_requests(a, t, ip, tpl, np.full(len(a), ua))


def _net_accounts(
    b: Builder,
    spec: NetworkSpec,
    created: np.ndarray,
    *,
    email_domain: str | None,
    signup_ips: np.ndarray,
    devices: list[str] | None,
    org: str | None = None,
    digits: bool = True,
) -> np.ndarray:
    out = []
    for i in range(spec.size):
        first, last = b.person()
        dev = devices[i % len(devices)] if devices else b.device()
        dom = email_domain or PROVIDERS[int(b.rng.integers(len(PROVIDERS)))]
        local = (
            f"{first}{last}{int(b.rng.integers(100, 99999))}"
            if digits
            else "".join(b.rng.choice(list("abcdefghijklmnopqrstuvwxyz0123456789"), size=12))
        )
        out.append(
            b.add_account(
                spec.name,
                created=int(created[i]),
                email=f"{local}@{dom}",
                name=f"{first.title()} {last.title()}",
                signup_ip=int(signup_ips[i % len(signup_ips)]),
                ua=int(b.rng.integers(0, 3)),
                device=dev,
                org=org,
            )
        )
    return np.array(out)


def _distill(b: Builder, kind: str, variants: int = 2, count: int = 2) -> list[int]:
    """This operator's distillation templates, each with light paraphrases."""
    out = []
    for t in text.operator_templates(b.rng, kind, count):
        out.append(b.template(t))
        for _ in range(variants):
            out.append(b.template(text.paraphrase(t, b.rng)))
    return out


def _burst(b: Builder, n: int, bursts: int, spread: int) -> np.ndarray:
    centres = T0 + b.rng.integers(0, b.p.days * DAY // 2, size=bursts)
    return np.sort(centres[b.rng.integers(0, bursts, size=n)] + b.rng.integers(0, spread, size=n))


def _style_cardfarm(b: Builder, s: NetworkSpec) -> None:
    dc = b.fresh_ips(max(6, s.size // 8), per_24=max(2, s.size // 24))
    created = _burst(b, s.size, 3, 3600)
    m = _net_accounts(b, s, created, email_domain=None, signup_ips=dc, devices=None)
    cards = [b.card() for _ in range(max(2, s.size // 15))]
    for i, idx in enumerate(m):
        b.add_card(int(idx), cards[i % len(cards)], bin_="535522", postcode="10115")
    _orchestrate(
        b,
        m,
        per_account=200,
        templates=_distill(b, "reasoning"),
        ip_pool=dc,
        start=created,
        active_share=0.3,
        ua=0,
    )


def _style_resiproxy(b: Builder, s: NetworkSpec) -> None:
    created = np.sort(T0 + b.rng.integers(0, 10 * DAY, size=s.size))
    devices = [b.device() for _ in range(max(2, s.size // 16))]
    m = _net_accounts(
        b,
        s,
        created,
        email_domain="yopmail.com",
        signup_ips=b.residential(s.size),
        devices=devices,
        digits=False,
    )
    for i, idx in enumerate(m):
        b.add_card(int(idx), b.card(), bin_="489504", postcode=f"9{i % 4:04d}")
    _orchestrate(
        b,
        m,
        per_account=120,
        templates=_distill(b, "agentic"),
        ip_pool=None,
        start=created,
        active_share=0.15,
        ua=0,
    )


def _style_sleeper(b: Builder, s: NetworkSpec) -> None:
    vps = b.fresh_ips(40, per_24=40)
    created = np.sort(T0 - b.rng.integers(0, 90 * DAY, size=s.size))
    m = _net_accounts(b, s, created, email_domain=None, signup_ips=vps, devices=None)
    for idx in m:
        b.add_card(int(idx), b.card(), bin_=f"{int(b.rng.integers(400000, 560000))}")
    _orchestrate(
        b,
        m,
        per_account=30,
        templates=_distill(b, "grading"),
        ip_pool=vps,
        start=np.full(s.size, T0),
        active_share=0.4,
        ua=1,
        hours=np.arange(1, 5),
    )


def _style_regrowth(b: Builder, s: NetworkSpec) -> None:
    waves = 5
    dc = b.fresh_ips(24, per_24=12)
    created = np.repeat(T0 + np.arange(waves) * (b.p.days * DAY // waves), -(-s.size // waves))[
        : s.size
    ]
    created = created + b.rng.integers(0, 7200, size=s.size)
    stop = created + b.p.days * DAY // waves + 3600
    devices = [b.device() for _ in range(10)]
    m = _net_accounts(b, s, created, email_domain=None, signup_ips=dc, devices=devices)
    cards = [b.card() for _ in range(5)]
    for i, idx in enumerate(m):
        b.add_card(int(idx), cards[i % 5], bin_="411773", postcode="75011")
    # ordinary-looking tasks, hardly a distillation signature: found by cards, devices, IPs
    tasks = [int(t) for t in b.rng.choice(b.personal_ids, size=3, replace=False)]
    _orchestrate(
        b,
        m,
        per_account=80,
        templates=tasks + _distill(b, "reasoning", 0)[:1],
        ip_pool=dc,
        start=created,
        active_share=0.3,
        ua=2,
        stop=stop,
    )


def _style_fakeorg(b: Builder, s: NetworkSpec) -> None:
    office = b.fresh_ips(4, per_24=4)
    created = _burst(b, s.size, 1, 7200)
    m = _net_accounts(
        b, s, created, email_domain=None, signup_ips=office, devices=None, org="org_acme_research"
    )
    card = b.card()
    for idx in m:
        b.add_card(int(idx), card, bin_="520082", postcode="94105", name="ACME RESEARCH")
    _orchestrate(
        b,
        m,
        per_account=250,
        templates=_distill(b, "reasoning", 1) + _distill(b, "agentic", 0),
        ip_pool=office,
        start=created,
        active_share=0.5,
        ua=0,
    )


def _style_smallring(b: Builder, s: NetworkSpec) -> None:
    net = b.fresh_ips(3, per_24=3)
    created = _burst(b, s.size, 2, 1800)
    m = _net_accounts(b, s, created, email_domain=None, signup_ips=net, devices=[b.device()])
    cards = [b.card(), b.card()]
    for i, idx in enumerate(m):
        b.add_card(int(idx), cards[i % 2])
    _orchestrate(
        b,
        m,
        per_account=60,
        templates=_distill(b, "grading", 1),
        ip_pool=net,
        start=created,
        active_share=0.6,
        ua=1,
    )


# ---------------------------------------------------------------- adaptive networks
# Operators that learned from the loud ones: no shared card pool, no exit pool, paraphrased
# or model-rewritten prompts, customers' ordinary traffic mixed in, sign-ups trickled.


def _trickle(b: Builder, n: int, days: int) -> np.ndarray:
    """Sign-ups spread evenly over ``days`` (no burst to find)."""
    span = max(1, min(days, b.p.days)) * DAY
    return np.sort(T0 + b.rng.integers(0, span, size=n))


def _ordinary(
    b: Builder, members: np.ndarray, per_account: int, start: np.ndarray, stop: np.ndarray | None
) -> None:
    """Ordinary one-off requests on the network's accounts (a reseller's customers, cover
    traffic), at people's hours, each from a fresh residential exit."""
    rng = b.rng
    for i, idx in enumerate(members.tolist()):
        n = int(rng.poisson(per_account))
        if n == 0:
            continue
        ts = b.diurnal(n, start=int(start[i]))
        if stop is not None:
            ts = ts[ts < stop[i]]
        m = len(ts)
        tpl = np.full(m, UNIQUE)
        b.add_requests(np.full(m, idx), ts, b.residential(m), tpl, np.full(m, b.ua()))


def _rewritten(b: Builder, kind: str, count: int = 2) -> list[int]:
    """Templates that a paraphrasing model rewrites at every use."""
    out = [b.template(t) for t in text.operator_templates(b.rng, kind, count)]
    b.w.rewritten.update(out)
    return out


def _style_pairedcards(b: Builder, s: NetworkSpec) -> None:
    """Cards shared only in pairs, a fresh residential exit per call, paraphrased templates,
    30% ordinary prompts, sign-ups over three weeks."""
    created = _trickle(b, s.size, 21)
    m = _net_accounts(
        b, s, created, email_domain=None, signup_ips=b.residential(s.size), devices=None
    )
    for i, idx in enumerate(m):
        if i % 2 == 0:
            card, bin_ = b.card(), f"{int(b.rng.integers(400000, 560000))}"
        b.add_card(int(idx), card, bin_=bin_)
    _orchestrate(
        b,
        m,
        per_account=90,
        templates=_distill(b, "reasoning", 3),
        ip_pool=None,
        start=created,
        active_share=0.2,
        ua=0,
    )
    _ordinary(b, m, 38, created, None)


def _style_quietring(b: Builder, s: NetworkSpec) -> None:
    """A small ring: unique cards, fresh IPs, a few shared devices, a grading template and
    orchestrated timing; nothing else in common."""
    created = _trickle(b, s.size, 10)
    devices = [b.device() for _ in range(3)]
    m = _net_accounts(
        b, s, created, email_domain=None, signup_ips=b.residential(s.size), devices=devices
    )
    for idx in m:
        b.add_card(int(idx), b.card(), bin_=f"{int(b.rng.integers(400000, 560000))}")
    _orchestrate(
        b,
        m,
        per_account=50,
        templates=_distill(b, "grading", 1, 1),
        ip_pool=None,
        start=created,
        active_share=0.6,
        ua=1,
    )


def _style_burnchurn(b: Builder, s: NetworkSpec) -> None:
    """Each account lives 2-5 days and is replaced; unique cards from three issuers; a fresh
    exit per call; every prompt rewritten by a paraphrasing model."""
    created = _trickle(b, s.size, b.p.days - 3)
    stop = created + b.rng.integers(2 * DAY, 5 * DAY, size=s.size)
    m = _net_accounts(
        b,
        s,
        created,
        email_domain=None,
        signup_ips=b.residential(s.size),
        devices=None,
        digits=False,
    )
    issuers = [f"{int(b.rng.integers(400000, 560000))}" for _ in range(3)]
    for i, idx in enumerate(m):
        b.add_card(int(idx), b.card(), bin_=issuers[i % 3])
    _orchestrate(
        b,
        m,
        per_account=70,
        templates=_rewritten(b, "reasoning") + _rewritten(b, "agentic", 1),
        ip_pool=None,
        start=created,
        active_share=0.5,
        ua=0,
        stop=stop,
    )


def _style_reseller(b: Builder, s: NetworkSpec) -> None:
    """A proxy reseller's accounts: its exits, one issuer, and mostly its customers' ordinary
    traffic; a quarter of the requests are distillation prompts."""
    exits = b.fresh_ips(16, per_24=8)
    created = _trickle(b, s.size, 14)
    m = _net_accounts(b, s, created, email_domain=None, signup_ips=exits, devices=None)
    issuer = f"{int(b.rng.integers(400000, 560000))}"
    for idx in m:
        b.add_card(int(idx), b.card(), bin_=issuer)
    _orchestrate(
        b,
        m,
        per_account=30,
        templates=_distill(b, "agentic", 2),
        ip_pool=exits,
        start=created,
        active_share=0.25,
        ua=2,
    )
    _ordinary(b, m, 90, created, None)


def _style_trickle(b: Builder, s: NetworkSpec) -> None:
    """Sign-ups trickled over the whole period from a few devices; fresh exits per call."""
    created = _trickle(b, s.size, b.p.days)
    devices = [b.device() for _ in range(6)]
    m = _net_accounts(
        b, s, created, email_domain=None, signup_ips=b.residential(s.size), devices=devices
    )
    for idx in m:
        b.add_card(int(idx), b.card(), bin_=f"{int(b.rng.integers(400000, 560000))}")
    _orchestrate(
        b,
        m,
        per_account=60,
        templates=_distill(b, "grading", 2) + _distill(b, "reasoning", 1, 1),
        ip_pool=None,
        start=created,
        active_share=0.3,
        ua=1,
    )


STYLE_BUILDERS = {
    "cardfarm": _style_cardfarm,
    "resiproxy": _style_resiproxy,
    "sleeper": _style_sleeper,
    "regrowth": _style_regrowth,
    "fakeorg": _style_fakeorg,
    "smallring": _style_smallring,
    "pairedcards": _style_pairedcards,
    "quietring": _style_quietring,
    "burnchurn": _style_burnchurn,
    "reseller": _style_reseller,
    "trickle": _style_trickle,
}
STYLES = tuple(STYLE_BUILDERS)

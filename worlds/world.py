"""Build the synthetic world: accounts, payment methods, requests and the ground truth.

Benign accounts include the hard negatives of real platforms (families sharing a card,
campus and carrier NAT hubs, enterprise teams with a corporate card, office range and
internal template, popular public templates, cron jobs). Planted networks come in styles
with different camouflage; see :data:`DEFAULT_NETWORKS`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from worlds import text

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86_400
USER_AGENTS = [
    "python-sdk/1.40.0",
    "python-sdk/1.39.2",
    "node-sdk/4.2.0",
    "Mozilla/5.0 Chrome/131",
    "Mozilla/5.0 Firefox/133",
    "Mozilla/5.0 Safari/18.1",
    "curl/8.5.0",
    "go-sdk/0.9.1",
    "langchain/0.3.1",
    "Mozilla/5.0 Edge/131",
]
UA_WEIGHTS = np.array([30, 15, 12, 14, 6, 8, 3, 2, 8, 2], dtype=float)
PROVIDERS = ["gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com", "gmx.net"]
FIRST = [
    "anna",
    "ben",
    "chloe",
    "david",
    "emma",
    "felix",
    "grace",
    "hugo",
    "isla",
    "jack",
    "kai",
    "lena",
    "milo",
    "nora",
    "omar",
    "priya",
    "quinn",
    "rosa",
    "sam",
    "tara",
    "umar",
    "vera",
    "will",
    "xena",
    "yuki",
    "zoe",
    "li",
    "wei",
    "ana",
    "jose",
]
LAST = [
    "smith",
    "garcia",
    "chen",
    "muller",
    "rossi",
    "kowalski",
    "nguyen",
    "silva",
    "khan",
    "ivanova",
    "tanaka",
    "brown",
    "lopez",
    "martin",
    "dubois",
    "jensen",
    "kim",
    "okafor",
]


@dataclass(frozen=True)
class NetworkSpec:
    """A planted network. ``style`` picks its camouflage (see ``_STYLES``)."""

    name: str
    style: str
    size: int


DEFAULT_NETWORKS: tuple[NetworkSpec, ...] = (
    NetworkSpec("cardfarm", "cardfarm", 150),
    NetworkSpec("resiproxy", "resiproxy", 400),
    NetworkSpec("sleeper", "sleeper", 80),
    NetworkSpec("regrowth", "regrowth", 250),
    NetworkSpec("fakeorg", "fakeorg", 60),
    NetworkSpec("smallring", "smallring", 12),
)


@dataclass(frozen=True)
class WorldParams:
    n_benign: int = 20_000
    days: int = 14
    seed: int = 7
    networks: tuple[NetworkSpec, ...] = DEFAULT_NETWORKS
    mean_requests: float = 20.0
    family_share: float = 0.05
    campus_share: float = 0.05
    carrier_share: float = 0.10
    enterprise_share: float = 0.06
    cron_share: float = 0.01
    public_template_share: float = 0.3


@dataclass
class World:
    params: WorldParams
    accounts: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    # what each benign account stands for (household, campus, carrier, enterprise, research,
    # cron, individual); the network name for planted accounts. Not part of the truth file.
    roles: list[str] = field(default_factory=list)
    # requests, columnar: account index, epoch seconds, IPv4 as int, template, user agent
    req_account: list[np.ndarray] = field(default_factory=list)
    req_ts: list[np.ndarray] = field(default_factory=list)
    req_ip: list[np.ndarray] = field(default_factory=list)
    req_template: list[np.ndarray] = field(default_factory=list)
    req_ua: list[np.ndarray] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)

    @property
    def n_requests(self) -> int:
        return int(sum(len(a) for a in self.req_ts))

    def truth(self) -> list[tuple[str, str]]:
        return [(a["id"], lab) for a, lab in zip(self.accounts, self.labels, strict=True)]

    def records(self, *, chunk: int = 200_000) -> Iterator[dict[str, Any]]:
        """All records: accounts, payment methods, then requests in time order."""
        yield from self.accounts
        yield from self.payments
        if not self.req_ts:
            return
        acct = np.concatenate(self.req_account)
        ts = np.concatenate(self.req_ts)
        ip = np.concatenate(self.req_ip)
        tpl = np.concatenate(self.req_template)
        ua = np.concatenate(self.req_ua)
        order = np.argsort(ts, kind="stable")
        rng = np.random.default_rng(self.params.seed + 1)
        ids = [a["id"] for a in self.accounts]
        iso = _iso_cache()
        seq = 0
        for start in range(0, len(order), chunk):
            sel = order[start : start + chunk]
            toks = rng.integers(20, 400, size=(len(sel), 2))
            for j, i in enumerate(sel.tolist()):
                seq += 1
                t = int(ts[i])
                yield {
                    "type": "request",
                    "id": f"req_{seq:09d}",
                    "account_id": ids[acct[i]],
                    "ts": iso(t) + f".{(t * 7919 + j) % 1000:03d}Z",
                    "ip": _ip(int(ip[i])),
                    "user_agent": USER_AGENTS[ua[i]],
                    "model": "model-large",
                    "prompt": text.fill(self.templates[tpl[i]], rng),
                    "input_tokens": int(toks[j, 0]),
                    "output_tokens": int(toks[j, 1] * 3),
                }


def _iso_cache() -> Any:
    import datetime as dt

    cache: dict[int, str] = {}

    def iso(t: int) -> str:
        minute = t - t % 60
        base = cache.get(minute)
        if base is None:
            if len(cache) > 100_000:
                cache.clear()
            base = dt.datetime.fromtimestamp(minute, dt.UTC).strftime("%Y-%m-%dT%H:%M")
            cache[minute] = base
        return f"{base}:{t % 60:02d}"

    return iso


def _ip(v: int) -> str:
    return f"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}"


def _iso(t: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(int(t), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Builder:
    def __init__(self, p: WorldParams) -> None:
        self.p = p
        self.rng = np.random.default_rng(p.seed)
        self.w = World(params=p)
        self.end = T0 + p.days * DAY
        self.templates: dict[str, int] = {}
        self.personal = text.personal_templates(self.rng, max(200, p.n_benign // 4))
        self.public_ids = [self.template(t) for t in text.PUBLIC]
        self.public_weights = np.array([25, 20, 15, 12, 10, 8, 6, 4], dtype=float)
        self.public_weights /= self.public_weights.sum()
        self.personal_ids = np.array([self.template(t) for t in self.personal])
        self._ip_next = 0x0B000000  # residential pool starts at 11.0.0.0
        self._card = 0
        self._dev = 0
        self.role = "individual"

    # ---- identifiers
    def template(self, t: str) -> int:
        if t not in self.templates:
            self.templates[t] = len(self.templates)
            self.w.templates.append(t)
        return self.templates[t]

    def fresh_ips(self, n: int, *, per_24: int = 1) -> np.ndarray:
        """``n`` IPs; ``per_24`` consecutive ones share a /24."""
        blocks = (n + per_24 - 1) // per_24
        base = self._ip_next + (np.arange(blocks) << 8)
        self._ip_next += blocks << 8
        hosts = self.rng.integers(1, 254, size=n)
        return (np.repeat(base, per_24)[:n] + hosts).astype(np.int64)

    def residential(self, n: int) -> np.ndarray:
        """Random residential IPs across a large space (rarely share a /24)."""
        return (0x30000000 + self.rng.integers(0, 1 << 26, size=n)).astype(np.int64)

    def card(self) -> str:
        self._card += 1
        return f"pmfp_{self._card:08x}{int(self.rng.integers(1 << 16)):04x}"

    def device(self) -> str:
        self._dev += 1
        return f"dev_{self._dev:07x}{int(self.rng.integers(1 << 12)):03x}"

    def person(self) -> tuple[str, str]:
        f = FIRST[int(self.rng.integers(len(FIRST)))]
        la = LAST[int(self.rng.integers(len(LAST)))]
        return f, la

    def add_account(
        self,
        label: str,
        *,
        created: int,
        email: str,
        name: str | None,
        signup_ip: int,
        ua: int,
        device: str | None,
        org: str | None = None,
        country: str = "US",
    ) -> int:
        idx = len(self.w.accounts)
        rec: dict[str, Any] = {
            "type": "account",
            "id": f"acct_{idx:07d}",
            "created_at": _iso(created),
            "email": email,
            "country": country,
            "signup_ip": _ip(int(signup_ip)),
            "user_agent": USER_AGENTS[ua],
        }
        if name:
            rec["name"] = name
        if device:
            rec["device_id"] = device
        if org:
            rec["org_id"] = org
        self.w.accounts.append(rec)
        self.w.labels.append(label)
        self.w.roles.append(self.role if label == "benign" else label)
        return idx

    def add_card(
        self,
        idx: int,
        fp: str,
        *,
        bin_: str = "453201",
        postcode: str | None = None,
        name: str | None = None,
    ) -> None:
        rec: dict[str, Any] = {
            "type": "payment_method",
            "account_id": f"acct_{idx:07d}",
            "fingerprint": fp,
            "brand": "visa",
            "bin": bin_,
            "last4": f"{int(self.rng.integers(10_000)):04d}",
        }
        if postcode:
            rec["billing_postcode"] = postcode
        if name:
            rec["billing_name"] = name
        self.w.payments.append(rec)

    def add_requests(
        self, idx: np.ndarray, ts: np.ndarray, ip: np.ndarray, tpl: np.ndarray, ua: np.ndarray
    ) -> None:
        keep = (ts >= T0) & (ts < self.end)
        self.w.req_account.append(idx[keep].astype(np.int32))
        self.w.req_ts.append(ts[keep].astype(np.int64))
        self.w.req_ip.append(ip[keep].astype(np.int64))
        self.w.req_template.append(tpl[keep].astype(np.int32))
        self.w.req_ua.append(ua[keep].astype(np.int16))

    # ---- timing helpers
    def diurnal(self, n: int, *, start: int | None = None, business: bool = False) -> np.ndarray:
        lo = max(T0, start or T0)
        days = self.rng.integers(0, max(1, (self.end - lo) // DAY), size=n)
        if business:
            hours = self.rng.integers(9, 17, size=n)
            day0 = (lo - T0) // DAY
            # move weekend days (T0 is a Thursday) to the Monday after
            dow = (day0 + days + 3) % 7
            days = days + np.where(dow == 5, 2, np.where(dow == 6, 1, 0))
        else:
            hours = self.rng.choice(24, size=n, p=_DIURNAL)
        secs = self.rng.integers(0, 3600, size=n)
        return (lo - (lo - T0) % DAY) + days * DAY + hours * 3600 + secs

    def ua(self) -> int:
        return int(self.rng.choice(len(USER_AGENTS), p=UA_WEIGHTS / UA_WEIGHTS.sum()))

    def email(
        self, first: str, last: str, *, domain: str | None = None, digits: bool | None = None
    ) -> str:
        if digits is None:
            digits = bool(self.rng.random() < 0.3)
        local = f"{first}.{last}" if self.rng.random() < 0.6 else f"{first}{last[0]}"
        if digits:
            local += str(int(self.rng.integers(10, 9999)))
        local += f"{len(self.w.accounts):x}" if domain is None else ""
        dom = domain or PROVIDERS[int(self.rng.integers(len(PROVIDERS)))]
        return f"{local}@{dom}"


_DIURNAL = np.array([1, 1, 1, 1, 1, 1, 2, 3, 5, 6, 6, 6, 5, 6, 6, 6, 6, 6, 6, 7, 7, 6, 4, 2], float)
_DIURNAL /= _DIURNAL.sum()


def _benign_person(
    b: _Builder,
    label: str = "benign",
    *,
    ips: np.ndarray | None = None,
    ip_pool: np.ndarray | None = None,
    card: str | None = None,
    org: str | None = None,
    domain: str | None = None,
    business: bool = False,
    internal: int | None = None,
    shared_home: int | None = None,
) -> int:
    rng = b.rng
    first, last = b.person()
    created = int(
        T0 - rng.integers(0, 365 * DAY)
        if rng.random() < 0.8
        else T0 + rng.integers(0, b.p.days * DAY)
    )
    if ips is None:
        home = shared_home if shared_home is not None else int(b.residential(1)[0])
        ips = np.array([home, *b.residential(int(rng.integers(0, 3)))], dtype=np.int64)
    ua = b.ua()
    idx = b.add_account(
        label,
        created=created,
        email=b.email(first, last, domain=domain),
        name=f"{first.title()} {last.title()}",
        signup_ip=int(ips[0]),
        ua=ua,
        device=b.device(),
        org=org,
    )
    if card is not None:
        b.add_card(
            idx,
            card,
            postcode=f"{int(rng.integers(10000, 99999))}",
            name=f"{last.title()} household" if org is None else org.upper(),
        )
    elif rng.random() < 0.6:
        b.add_card(
            idx,
            b.card(),
            bin_=f"{int(rng.integers(400000, 560000))}",
            postcode=f"{int(rng.integers(10000, 99999))}",
            name=f"{first} {last}",
        )
    n = max(1, int(rng.lognormal(np.log(b.p.mean_requests), 0.9)))
    ts = b.diurnal(n, start=created, business=business)
    own = b.personal_ids[rng.integers(0, len(b.personal_ids), size=int(rng.integers(1, 5)))]
    tpl = own[rng.integers(0, len(own), size=n)]
    public = rng.random(n) < b.p.public_template_share
    tpl = np.where(
        public,
        np.array(b.public_ids)[rng.choice(len(b.public_ids), size=n, p=b.public_weights)],
        tpl,
    )
    if internal is not None:
        tpl = np.where(rng.random(n) < 0.5, internal, tpl)
    pool = ip_pool if ip_pool is not None else ips
    ip = pool[rng.integers(0, len(pool), size=n)]
    b.add_requests(np.full(n, idx), ts, ip, tpl, np.full(n, ua))
    return idx


def _benign(b: _Builder) -> None:
    p, rng = b.p, b.rng
    n_family = int(p.n_benign * p.family_share)
    n_campus = int(p.n_benign * p.campus_share)
    n_carrier = int(p.n_benign * p.carrier_share)
    n_enterprise = int(p.n_benign * p.enterprise_share)
    n_cron = int(p.n_benign * p.cron_share)
    done = 0
    b.role = "household"
    while done < n_family:  # households: one card, one home IP
        k = int(rng.integers(2, 6))
        card, home = b.card(), int(b.residential(1)[0])
        for _ in range(k):
            _benign_person(b, card=card if rng.random() < 0.8 else None, shared_home=home)
        done += k
    b.role = "campus"
    campus_ips = b.fresh_ips(2, per_24=2)
    for _ in range(n_campus):
        _benign_person(b, ips=campus_ips)
    b.role = "carrier"
    carrier_pool = b.fresh_ips(60, per_24=30)
    for _ in range(n_carrier):
        _benign_person(b, ips=carrier_pool[rng.integers(0, 60, size=1)], ip_pool=carrier_pool)
    done = 0
    org_no = 0
    while done < n_enterprise:  # companies: declared org, corporate card, office range
        org_no += 1
        k = int(rng.integers(8, 60))
        org = f"org_{org_no:04d}"
        domain = f"company{org_no}.example"
        office = b.fresh_ips(int(rng.integers(1, 5)), per_24=4)
        card = b.card()
        research = rng.random() < 0.15  # a lab that legitimately runs reasoning evals
        b.role = "research_lab" if research else "enterprise"
        internal = b.template(text.internal_template(rng, research=research))
        for _ in range(k):
            _benign_person(
                b, ips=office, card=card, org=org, domain=domain, business=True, internal=internal
            )
        done += k
    b.role = "cron"
    for _ in range(n_cron):  # cron jobs: one account each, top of every hour
        first, last = b.person()
        created = int(T0 - rng.integers(30 * DAY, 365 * DAY))
        server = int(b.fresh_ips(1)[0])
        idx = b.add_account(
            "benign",
            created=created,
            email=b.email(first, last),
            name=None,
            signup_ip=server,
            ua=0,
            device=None,
        )
        b.add_card(idx, b.card(), bin_=f"{int(rng.integers(400000, 560000))}")
        every = int(rng.choice([3600, 1800, 7200]))
        ts = np.arange(T0, b.end, every) + rng.integers(
            0, 20, size=len(np.arange(T0, b.end, every))
        )
        # most jobs run their own task; some use a popular public template at the same minute
        tpl = int(b.public_ids[0]) if rng.random() < 0.3 else int(rng.choice(b.personal_ids))
        n = len(ts)
        b.add_requests(np.full(n, idx), ts, np.full(n, server), np.full(n, tpl), np.zeros(n, int))
    b.role = "individual"
    while len(b.w.accounts) < p.n_benign:
        _benign_person(b)


# ---------------------------------------------------------------- planted networks
def _orchestrate(
    b: _Builder,
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
    b: _Builder,
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


def _distill(b: _Builder, kind: str, variants: int = 2, count: int = 2) -> list[int]:
    """This operator's distillation templates, each with light paraphrases."""
    out = []
    for t in text.operator_templates(b.rng, kind, count):
        out.append(b.template(t))
        for _ in range(variants):
            out.append(b.template(text.paraphrase(t, b.rng)))
    return out


def _burst(b: _Builder, n: int, bursts: int, spread: int) -> np.ndarray:
    centres = T0 + b.rng.integers(0, b.p.days * DAY // 2, size=bursts)
    return np.sort(centres[b.rng.integers(0, bursts, size=n)] + b.rng.integers(0, spread, size=n))


def _style_cardfarm(b: _Builder, s: NetworkSpec) -> None:
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


def _style_resiproxy(b: _Builder, s: NetworkSpec) -> None:
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


def _style_sleeper(b: _Builder, s: NetworkSpec) -> None:
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


def _style_regrowth(b: _Builder, s: NetworkSpec) -> None:
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


def _style_fakeorg(b: _Builder, s: NetworkSpec) -> None:
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


def _style_smallring(b: _Builder, s: NetworkSpec) -> None:
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


_STYLES = {
    "cardfarm": _style_cardfarm,
    "resiproxy": _style_resiproxy,
    "sleeper": _style_sleeper,
    "regrowth": _style_regrowth,
    "fakeorg": _style_fakeorg,
    "smallring": _style_smallring,
}
STYLES = tuple(_STYLES)


def generate_world(params: WorldParams | None = None) -> World:
    """Build a world; the same params (seed included) give the same world."""
    p = params or WorldParams()
    b = _Builder(p)
    _benign(b)
    for spec in p.networks:
        if spec.style not in _STYLES:
            raise ValueError(f"unknown network style {spec.style!r}; choose from {sorted(_STYLES)}")
        _STYLES[spec.style](b, spec)
    return b.w


def scaled_networks(copies: int, scale: float = 1.0) -> tuple[NetworkSpec, ...]:
    """``copies`` of every default style, sizes multiplied by ``scale`` (for big worlds)."""
    out = []
    for c in range(copies):
        for s in DEFAULT_NETWORKS:
            name = s.name if copies == 1 else f"{s.name}_{c:03d}"
            out.append(NetworkSpec(name, s.style, max(6, int(s.size * scale))))
    return tuple(out)
